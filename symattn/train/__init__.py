r"""Reference trainers: gradient descent, normalised gradient descent, the regularisation path.

* :mod:`symattn.train.config`: :class:`TrainConfig` (every option checked against its method),
  the method, initialisation and status enums;
* :mod:`symattn.train.trainers`: pure ``init``/``step`` trainers; normalised GD is GD followed by
  the :func:`normalize` transform;
* :mod:`symattn.train.run`: :func:`train` (the loop, checkpoints, bit-identical resume and
  extension, divergence) and the recorded :class:`Trajectory` with its files;
* :mod:`symattn.train.path`: :func:`regularization_path` and its solver.

>>> from symattn.examples import load_example
>>> traj = train(load_example(), method="gd", steps=50)
>>> traj.status.value, int(traj.steps[-1]), bool(traj.loss[-1] < traj.loss[0])
('completed', 50, True)
"""

# The constants and ProgressCallback are importable from here too (``from symattn.train import
# MAX_STEPS``) but stay out of ``__all__``, like before the split.
from symattn.train.config import (
    DEFAULT_CHECKPOINT_SECONDS as DEFAULT_CHECKPOINT_SECONDS,
)
from symattn.train.config import (
    DEFAULT_RECORDS as DEFAULT_RECORDS,
)
from symattn.train.config import (
    DEFAULT_STEPS as DEFAULT_STEPS,
)
from symattn.train.config import (
    MAX_RECORDS as MAX_RECORDS,
)
from symattn.train.config import (
    MAX_STEPS as MAX_STEPS,
)
from symattn.train.config import (
    NGD_DEFAULT_LR as NGD_DEFAULT_LR,
)
from symattn.train.config import (
    Init,
    TrainConfig,
    TrainMethod,
    TrainStatus,
)
from symattn.train.path import regularization_path
from symattn.train.run import (
    CHECKPOINT_FORMAT as CHECKPOINT_FORMAT,
)
from symattn.train.run import (
    TRAJECTORY_FORMAT as TRAJECTORY_FORMAT,
)
from symattn.train.run import (
    ProgressCallback as ProgressCallback,
)
from symattn.train.run import (
    Trajectory,
    record_steps,
    train,
)
from symattn.train.trainers import (
    GradientDescent,
    NormalizedGradientDescent,
    Trainer,
    TrainState,
    Transform,
    initial_weights,
    normalize,
)

__all__ = [
    "GradientDescent",
    "Init",
    "NormalizedGradientDescent",
    "TrainConfig",
    "TrainMethod",
    "TrainState",
    "TrainStatus",
    "Trainer",
    "Trajectory",
    "Transform",
    "initial_weights",
    "normalize",
    "record_steps",
    "regularization_path",
    "train",
]
