namespace EdgeLam.Contracts;
