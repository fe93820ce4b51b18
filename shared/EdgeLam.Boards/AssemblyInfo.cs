namespace EdgeLam.Boards;
