"""Clinical workflows. So far: patient registration and the master patient index (``mpi``)."""
