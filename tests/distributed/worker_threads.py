"""Run under ``mpiexec -n 2`` without thread variables: print each rank's thread counts."""
import json

import numba
from threadpoolctl import threadpool_info

import minitorch.distributed as dist

dist.init()
blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps({"rank": dist.rank(), "numba": numba.get_num_threads(), "blas": blas}),
      flush=True)
