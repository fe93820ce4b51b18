namespace EdgeLam.Gateway;
