namespace EdgeLam.Agent;
