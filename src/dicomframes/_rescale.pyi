# Stub for the compiled _rescale module (_rescale.pyx).
from typing import Any

import numpy as np
from numpy.typing import NDArray

def rescale_into(src: NDArray[Any], slope: float, intercept: float,
                 out: NDArray[np.float32]) -> None: ...
