"""The one training core used by every skae estimator.

An estimator builds its torch module and loss, then calls :func:`train` (a full
fit, with the optional early-stopping split) or :func:`train_more` (one more
pass for ``partial_fit``). Both run a skorch :class:`~skorch.NeuralNet`
subclass, :class:`TrainingNet`, through skorch's documented extension points
only (``get_dataset``, ``get_iterator``, ``fit_loop`` and callbacks):

* batches are slices of in-memory tensors taken through a shuffled
  permutation (:class:`TensorData`), or are read a block at a time from an
  out-of-core array or densified a batch at a time from a sparse matrix
  (:class:`StreamData`, over the sources of :mod:`skae._data`): no
  per-sample ``__getitem__`` and no collate; an optional ``corruption`` is
  applied to each training batch while the target stays clean (denoising
  autoencoders);
* with ``distributed=True`` under a launcher (``torchrun``), the processes
  share every batch and PyTorch's ``DistributedDataParallel`` averages the
  gradients (:func:`process_group`, :class:`Share`);
* every random draw of a fit (weight init, dropout, VAE sampling, shuffling,
  noise, the validation split) comes from generators owned by that fit
  (:class:`FitRandom`), never from torch's global RNG, so fits in concurrent
  threads give the same models as the same fits run one after another;
* a non-finite loss stops training at once (:class:`FiniteLossGuard`); a
  ``KeyboardInterrupt`` ends it with the best weights so far and a warning;
  ``checkpoint`` writes the whole training state after each epoch so that a
  killed fit resumes where it stopped (:class:`EpochCheckpoint`).

Inference goes through :func:`predict_batches`: fixed-size batches under
``torch.inference_mode()``, so that on CPU a row's output does not depend on
the other rows of the call.
"""

import collections
import copy
import hashlib
import json
import math
import os
import sys
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler, PassthroughScoring
from skorch.dataset import unpack_data
from skorch.helper import predefined_split
from skorch.history import History
from skorch.utils import TeeGenerator

from ._data import block_ranges, block_rows, read_blocks, validation_ranges
from ._io import atomic_write

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

#: the ``precision`` parameter's values: the dtype the network computes in
#: under ``torch.autocast`` while it trains (None: plain float32)
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}

#: rows per inference batch. Every batch is padded to exactly this size, so
#: each row goes through kernels of one shape whatever else is in the call:
#: on CPU a row's output is bitwise the same alone or among 5000 others.
INFERENCE_BATCH_SIZE = 256

#: rows per inference batch on a GPU, where large batches are what keeps it
#: busy (batch invariance is a CPU promise: GPU kernels differ by shape anyway)
GPU_INFERENCE_BATCH_SIZE = 8192

#: what early stopping watches unless an estimator says otherwise
VALID_LOSS_MONITOR = dict(monitor="valid_loss", lower_is_better=True, threshold_mode="rel")


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available; "
                         "use device='auto' or device='cpu'.")
    return device


def derive_seed(random_state):
    """One int seed from an sklearn ``random_state`` (int, RandomState, None)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def process_group(distributed, device):
    """``(rank, world_size, device)`` of a data-parallel fit.

    With ``distributed`` and a launcher's environment (``WORLD_SIZE`` > 1,
    as ``torchrun`` sets it), the default
    ``torch.distributed`` process group is joined (initialised here, with
    NCCL for CUDA and gloo for the CPU, unless the script did it) and a CUDA
    process takes the device ``cuda:LOCAL_RANK``. Otherwise ``(0, 1,
    device)``: the fit runs in this process alone.
    """
    import torch.distributed as dist

    if not distributed:
        return 0, 1, device
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return 0, 1, device
        dist.init_process_group("nccl" if torch.device(device).type == "cuda" else "gloo")
    world = dist.get_world_size()
    if torch.device(device).type == "cuda" and torch.device(device).index is None:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', dist.get_rank()))}"
    return dist.get_rank(), world, device


def mean_over_processes(value, world):
    """``value`` (a tensor or a number) averaged over the processes of a
    data-parallel fit; itself when the fit runs in one process."""
    if world == 1:
        return value
    import torch.distributed as dist

    value = torch.as_tensor(value, dtype=torch.float32).detach().clone()
    dist.all_reduce(value)
    return value / world


# ---------------------------------------------------------------- randomness
class FitRandom:
    """The torch generators of one fit, each seeded from the fit's seed.

    ``init`` draws the initial weights, ``module`` the randomness inside the
    network in training (dropout, a VAE's reparameterization), ``shuffle``
    the batch order, ``noise`` a denoiser's training corruption and
    ``valid_noise`` its fixed validation corruption. Owning them (instead of
    seeding torch's global RNG) keeps concurrent fits independent.
    """

    NAMES = ("init", "module", "shuffle", "noise", "valid_noise")

    def __init__(self, seed, device="cpu"):
        self.seed = seed
        self.device = torch.device(device)
        self.generators = {}
        for offset, name in enumerate(self.NAMES):
            # the shuffle order is drawn on the CPU whatever the device
            dev = "cpu" if name == "shuffle" else self.device
            self.generators[name] = torch.Generator(dev).manual_seed(seed + offset)

    def __getitem__(self, name):
        return self.generators[name]

    def get_state(self):
        return {name: g.get_state() for name, g in self.generators.items()}

    def set_state(self, state):
        for name, value in state.items():
            self.generators[name].set_state(value)


def build_module(builder, generator, device):
    """Call ``builder()`` without touching torch's global RNG, then draw weights.

    The module is built on the ``meta`` device (no memory, no random draws),
    materialised on ``device`` and initialised by :func:`init_parameters`
    from ``generator``.
    """
    with torch.device("meta"):
        module = builder()
    module = module.to_empty(device=device)
    init_parameters(module, generator)
    return module


def init_parameters(module, generator):
    """PyTorch's default init of linear and conv layers, drawn from ``generator``.

    Weights: Kaiming-uniform with ``a=sqrt(5)``; biases: uniform in
    ``+-1/sqrt(fan_in)`` (what ``reset_parameters`` does, on a private RNG).
    """
    for layer in module.modules():
        weight = getattr(layer, "weight", None)
        if weight is None or not isinstance(layer, (torch.nn.Linear,
                                                    torch.nn.modules.conv._ConvNd)):
            if any(True for _ in layer.parameters(recurse=False)):
                raise TypeError(f"no initialisation rule for {type(layer).__name__}")
            continue
        with torch.no_grad():
            torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                fan_in = weight.shape[1] * math.prod(weight.shape[2:])
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def attach_generator(module, generator):
    """Give every submodule that draws in training (``uses_generator``) a generator."""
    for layer in module.modules():
        if getattr(layer, "uses_generator", False):
            layer.generator = generator


# ---------------------------------------------------------------- data
class TensorData:
    """Input tensor ``X`` and target tensor ``y`` (``None``: the target is X)."""

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return self.X.shape[0]

    def batches(self, batch_size, shuffle=False, generator=None):
        """Yield ``(x, target)``: slices in order, or through a new permutation
        drawn from ``generator`` (one indexing operation per batch)."""
        X, y = self.X, self.y
        n = len(self)
        perm = torch.randperm(n, generator=generator).to(X.device) if shuffle else None
        for start in range(0, n, batch_size):
            idx = slice(start, start + batch_size) if perm is None \
                else perm[start:start + batch_size]
            xb = X[idx]
            yield xb, (xb if y is None else y[idx])


class StreamData:
    """Rows of a source (:mod:`skae._data`) made into batches one at a time.

    ``rows`` (indices) are the rows it holds when the source has fast random
    access (a sparse matrix): a shuffled pass permutes them all, as
    :class:`TensorData` permutes its rows, and densifies each batch alone.
    ``blocks`` (``(start, stop)`` row ranges) are what it holds of an
    out-of-core source, less the ``exclude`` ranges (the validation rows,
    dropped from each block as it is read): a shuffled pass visits the blocks
    in a random order and the rows of each block in a random order, reading
    the next block while the current one is trained on (memory holds two
    blocks). The rows left over after a block's last whole batch open the
    next block's first batch, so every batch but the last is full.

    The target is the clean input. ``corruption=(f, generator_state)``
    corrupts the inputs of every unshuffled (validation) pass with the same
    noise: ``f(x, generator)`` with a generator put back to that state.
    """

    def __init__(self, source, device, *, rows=None, blocks=None, exclude=(),
                 corruption=None):
        self.source = source
        self.device = device
        self.rows = rows
        self.blocks = blocks
        self.exclude = list(exclude)
        self.corruption = corruption

    def __len__(self):
        if self.rows is not None:
            return len(self.rows)
        return (sum(stop - start for start, stop in self.blocks)
                - sum(stop - start for start, stop in self.exclude))

    def _tensor(self, array):
        return torch.tensor(array, dtype=torch.float32, device=self.device)

    def batches(self, batch_size, shuffle=False, generator=None):
        noise = None
        if self.corruption is not None and not shuffle:
            fn, state = self.corruption
            noise = torch.Generator(self.device)
            noise.set_state(state)
        for xb in (self._row_batches if self.rows is not None else self._block_batches)(
                batch_size, shuffle, generator):
            yield (xb if noise is None else fn(xb, noise)), xb

    def _row_batches(self, batch_size, shuffle, generator):
        rows = self.rows
        if shuffle:  # the same draw as TensorData's, so the same batches
            rows = rows[torch.randperm(len(rows), generator=generator).numpy()]
        for start in range(0, len(rows), batch_size):
            yield self._tensor(self.source.take(rows[start:start + batch_size]))

    def _kept(self, block, start, stop):
        """``block`` (rows ``start:stop``) without the excluded rows."""
        keep = None
        for a, b in self.exclude:
            if a < stop and b > start:
                if keep is None:
                    keep = np.ones(stop - start, dtype=bool)
                keep[max(a, start) - start:min(b, stop) - start] = False
        return block if keep is None else block[keep]

    def _block_batches(self, batch_size, shuffle, generator):
        from concurrent.futures import ThreadPoolExecutor

        order = (torch.randperm(len(self.blocks), generator=generator).tolist()
                 if shuffle else range(len(self.blocks)))
        ranges = [self.blocks[b] for b in order]
        carry = None
        with ThreadPoolExecutor(1) as reader:  # read ahead while the net trains
            pending = reader.submit(self.source.read, *ranges[0]) if ranges else None
            for i, (start, stop) in enumerate(ranges):
                block = self._tensor(self._kept(pending.result(), start, stop))
                pending = (reader.submit(self.source.read, *ranges[i + 1])
                           if i + 1 < len(ranges) else None)
                if shuffle:
                    block = block[torch.randperm(len(block), generator=generator)
                                  .to(block.device)]
                if carry is not None:
                    block = torch.cat([carry, block])
                full = len(block) // batch_size * batch_size
                for s in range(0, full, batch_size):
                    yield block[s:s + batch_size]
                carry = block[full:] if full < len(block) else None
        if carry is not None:
            yield carry


class BatchIterator:
    """Yield ``(X_batch, y_batch)`` from a :class:`TensorData` or :class:`StreamData`.

    With ``shuffle=True`` each pass draws a new order from ``generator``.
    ``corruption(x) -> x`` corrupts the inputs; the target stays clean.
    ``shard=(rank, world_size)`` (data-parallel training) keeps this
    process's equal share of each batch: every process draws the same order
    and takes ``len(batch) // world_size`` rows of each batch (the at most
    ``world_size - 1`` rows left over are skipped, so that every process
    steps on batches of the same size).
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None, corruption=None,
                 shard=(0, 1)):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.corruption = corruption
        self.shard = shard

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        rank, world = self.shard
        for xb, target in self.dataset.batches(self.batch_size, self.shuffle, self.generator):
            if world > 1:
                m = len(xb) // world
                if m == 0:
                    continue
                xb, target = xb[rank * m:(rank + 1) * m], target[rank * m:(rank + 1) * m]
            yield (xb if self.corruption is None else self.corruption(xb)), target


# ---------------------------------------------------------------- callbacks
class TrainingDiverged(Exception):
    """Raised by :class:`FiniteLossGuard`; :func:`train` turns it into a
    warning (best weights restored) or a ``ValueError``."""

    def __init__(self, epoch, training):
        super().__init__(epoch, training)
        self.epoch = epoch
        self.training = training


class FiniteLossGuard(Callback):
    """Stop training at the first batch whose loss is not finite."""

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None and not math.isfinite(loss.item()):
            raise TrainingDiverged(len(net.history), training)


class KeepLastEpoch(Callback):
    """Hold the weights of the last completed epoch during training (when
    early stopping does not hold the best ones), so that an interrupted epoch
    can be undone; let them go once training ends."""

    weights_ = None

    def on_train_begin(self, net, **kwargs):
        self.weights_ = copy.deepcopy(net.module_.state_dict())

    def on_epoch_end(self, net, **kwargs):
        self.weights_ = copy.deepcopy(net.module_.state_dict())

    def on_train_end(self, net, **kwargs):
        es = dict(net.callbacks_).get("early_stopping")
        if getattr(net, "interrupted", False) and (es is None or es.best_model_weights_ is None):
            net.module_.load_state_dict(self.weights_)  # undo the unfinished epoch
        self.weights_ = None


class FitEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` scoped to the fit that has a validation set.

    Epochs without the monitored score (``partial_fit`` after ``fit``, which
    holds out no validation data) pass by unwatched, and the copy of the best
    weights is let go once they are restored, so the fitted net can stay as
    it is: no callback is removed after the fit.
    """

    def on_epoch_end(self, net, **kwargs):
        if self.monitor in net.history[-1]:
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None

    def restore_best(self, net):
        """Load the best weights (training was cut short by an error)."""
        net.module_.load_state_dict(self.best_model_weights_)
        self.best_model_weights_ = None


class RecordTerms(Callback):
    """Record the criterion's per-batch ``terms`` (e.g. a VAE's ``recon`` and
    ``kl``) so that ``PassthroughScoring`` averages them per epoch."""

    def on_batch_end(self, net, training=None, **kwargs):
        prefix = "train_" if training else "valid_"
        for name, value in net.criterion_.terms.items():
            value = mean_over_processes(value, net.shard[1])
            net.history.record_batch(prefix + name, float(value))


class RowProgress(Callback):
    """A progress bar within each training epoch: rows done, rows per second
    and time left (tqdm, on stderr); ``verbose >= 2`` switches it on."""

    bar_ = None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=len(dataset_train), unit="rows", unit_scale=True,
                         leave=False, desc=f"epoch {len(net.history)}", file=sys.stderr)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training and self.bar_ is not None:
            self.bar_.update(len(batch[0]))

    def on_epoch_end(self, net, **kwargs):
        self.on_train_end(net)

    def on_train_end(self, net, **kwargs):
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None


class CosineFactor:
    """``lr`` factor of epoch ``e`` on a cosine from 1 down to 0 over ``n_epochs``.

    A closed form of the epoch (``LambdaLR`` takes it), so that a fit resumed
    from a checkpoint sets bitwise the learning rate the uninterrupted fit had.
    """

    def __init__(self, n_epochs):
        self.n_epochs = n_epochs

    def __call__(self, epoch):
        return 0.5 * (1.0 + math.cos(math.pi * min(epoch, self.n_epochs) / self.n_epochs))


class FitLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` scoped to one fit.

    It shapes the learning rate over the epochs of the fit it was made for;
    when that fit ends it puts the optimizer's learning rate back to the
    net's ``lr`` and lets later ``partial_fit`` epochs pass at it.
    """

    ended_ = False

    def __init__(self, n_epochs):
        super().__init__(torch.optim.lr_scheduler.LambdaLR, event_name=None,
                         lr_lambda=CosineFactor(n_epochs))

    def on_train_begin(self, net, **kwargs):
        if not self.ended_:
            super().on_train_begin(net, **kwargs)

    def on_epoch_end(self, net, **kwargs):
        if not self.ended_:
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs):
        if not self.ended_:
            self.ended_ = True
            self.lr_scheduler_ = None
            for group in net.optimizer_.param_groups:
                group["lr"] = net.lr


class EpochCheckpoint(Callback):
    """Write the full training state to ``path`` after each epoch, atomically.

    The state is the module's and the optimizer's, the history, the early
    stopping state, the fit's generators and a fingerprint of the settings
    and data; :func:`train` resumes from it. Put after early stopping, so it
    saves the early-stopping state of the epoch it ends. It serves one fit:
    at the end of it (completed or interrupted) it lets go of its file, the
    generators and the resumed state, and later ``partial_fit`` calls pass
    it by.
    """

    def __init__(self, path, fingerprint, random, resume=None):
        self.path = path
        self.fingerprint = fingerprint
        self.random = random
        self.resume = resume

    def on_train_begin(self, net, **kwargs):
        # after EarlyStopping.on_train_begin has reset its state
        if self.resume is not None:
            es = dict(net.callbacks_).get("early_stopping")
            for key, value in self.resume.get("early_stopping", {}).items():
                setattr(es, key, value)

    def on_epoch_end(self, net, **kwargs):
        if self.path is None:  # the fit it served has ended
            return
        es = dict(net.callbacks_).get("early_stopping")
        state = {
            "fingerprint": self.fingerprint,
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "history": history_records(net.history),
            "random": self.random.get_state(),
        }
        if es is not None:
            state["early_stopping"] = {
                key: _plain(getattr(es, key)) for key in
                ("misses_", "dynamic_threshold_", "best_epoch_", "best_model_weights_")}
        atomic_write(self.path, lambda f: torch.save(state, f))

    def on_train_end(self, net, **kwargs):
        self.path = self.random = self.resume = None


# ---------------------------------------------------------------- the net
#: this process's part in a data-parallel fit: its rank, the number of
#: processes and the module wrapped in ``DistributedDataParallel``
Share = collections.namedtuple("Share", "rank world module")


class TrainingNet(NeuralNet):
    """skorch net with skae's in-memory batches, own generators and corruption.

    Internal: the public estimators hold one of these as ``net_``. The
    ``module`` is built by the estimator and handed over as a :class:`Prebuilt`
    callable, so that the net's parameters never hold a second reference to
    the weights.

    ``precision`` (a :data:`PRECISIONS` key) runs the module's forward passes
    in training and validation under ``torch.autocast`` (mixed precision: the
    weights, the optimizer and the loss stay float32); ``"float16"`` adds
    loss scaling (``torch.amp.GradScaler``) against gradient underflow.

    ``distributed`` trains data-parallel while a fit runs in a
    ``torch.distributed`` group (:func:`process_group`): :func:`train`
    attaches a :class:`Share` (this process's rank, and the module wrapped in
    PyTorch's ``DistributedDataParallel``, which averages the gradients) for
    the length of the fit, the training forward passes go through it, each
    process gets its share of every batch (:class:`BatchIterator`), and the
    losses are averaged over the processes before they are recorded, so that
    every process keeps the same history and takes the same early-stopping
    decisions.
    """

    def __init__(self, *args, corruption=None, precision="float32", distributed=False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.corruption = corruption
        self.precision = precision
        self.distributed = distributed
        self.random = None
        self.grad_scaler_ = None
        self.share = None

    def initialize(self):
        super().initialize()
        self.grad_scaler_ = (torch.amp.GradScaler(torch.device(self.device).type)
                             if self.precision == "float16" else None)
        return self

    def infer(self, x, **fit_params):
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return self._forward(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=dtype):
            out = self._forward(x, **fit_params)
        return _as_float32(out)  # the loss is computed in float32

    def _forward(self, x, **fit_params):
        if self.share is not None and self.module_.training:
            return self.share.module(x, **fit_params)  # gradients averaged over processes
        return super().infer(x, **fit_params)

    def train_step(self, batch, **fit_params):
        step = self._train_step(batch, **fit_params)
        return dict(step, loss=mean_over_processes(step["loss"], self.shard[1]))

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        return dict(step, loss=mean_over_processes(step["loss"], self.shard[1]))

    @property
    def shard(self):
        """``(rank, world_size)`` of this process in the fit (``(0, 1)``: alone)."""
        return (0, 1) if self.share is None else (self.share.rank, self.share.world)

    def _train_step(self, batch, **fit_params):
        if self.grad_scaler_ is None:
            return super().train_step(batch, **fit_params)
        # Loss scaling: a GradScaler cannot step through an optimizer closure
        # (how skorch's train_step steps), so the float16 step is spelled out
        # as skorch's customization guide suggests: scaled backward, unscale
        # (callbacks see true gradients), step (skipped on inf/NaN), update.
        scaler = self.grad_scaler_
        self.optimizer_.zero_grad()
        self.module_.train()
        self.criterion_.train()
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        scaler.scale(loss).backward()
        scaler.unscale_(self.optimizer_)
        self.notify("on_grad_computed", batch=batch,
                    named_parameters=TeeGenerator(self.get_all_learnable_params()))
        scaler.step(self.optimizer_)
        scaler.update()
        return {"loss": loss, "y_pred": y_pred}

    def get_dataset(self, X, y=None):
        return X if isinstance(X, (TensorData, StreamData)) else TensorData(X, y)

    def get_iterator(self, dataset, training=False):
        if not training:
            return BatchIterator(dataset, self.batch_size, shard=self.shard)
        return BatchIterator(dataset, self.batch_size, shuffle=True,
                             generator=self.random["shuffle"], corruption=self.corruption,
                             shard=self.shard)

    def attach_processes(self):
        """Join the fit's process group, if any (sets :attr:`share`)."""
        rank, world, _ = process_group(self.distributed, str(self.weights_device))
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel

            dev = self.weights_device
            self.share = Share(rank, world, DistributedDataParallel(
                self.module_, device_ids=[dev.index] if dev.type == "cuda" else None))

    def detach_processes(self):
        """Back to an ordinary single-process net (after a fit)."""
        self.share = None

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch ends training quietly on KeyboardInterrupt (early stopping
        # raises one too); remember that it happened so that a user's Ctrl-C
        # can be told apart and reported.
        self.interrupted = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted = True
            raise

    @property
    def weights_device(self):
        """Where the trained weights live (CPU after loading a CUDA model)."""
        return next(self.module_.parameters()).device

    def prepare_inference(self):
        """Put the module in eval mode (dropout off); return the weights' device."""
        self.module_.eval()
        return self.weights_device

    def __getstate__(self):
        state = super().__getstate__()
        state["random"] = None
        state["corruption"] = None
        state["share"] = None
        return state


def _as_float32(out):
    """Floating tensors of a module's output (a tensor or a tuple) as float32."""
    if isinstance(out, tuple):
        return tuple(_as_float32(o) for o in out)
    return out.float() if torch.is_tensor(out) and out.is_floating_point() else out


class Prebuilt:
    """Callable handing a built module to skorch once; pickles as empty.

    skorch calls ``module()`` in ``initialize``; afterwards the weights live in
    ``module_`` only (pickled through skorch's device-aware path).
    """

    def __init__(self, module):
        self.module = module

    def __call__(self):
        if self.module is None:
            raise RuntimeError("this net was unpickled or loaded: its module cannot "
                               "be rebuilt, only used and trained further.")
        return self.module

    def __getstate__(self):
        return {"module": None}


def _callbacks(est, criterion, early_stopping, checkpoint=None, schedule_epochs=None):
    callbacks = [("finite_loss", FiniteLossGuard())]
    terms = getattr(criterion, "term_names", ())
    if terms:
        callbacks.append(("record_terms", RecordTerms()))
        for name in terms:
            callbacks += [(f"train_{name}", PassthroughScoring(f"train_{name}", on_train=True)),
                          (f"valid_{name}", PassthroughScoring(f"valid_{name}"))]
    # the estimator's own callbacks (e.g. a VAE's KL warm-up) are rebuilt from
    # its parameters, so they also come back after skae.load
    callbacks += est._training_callbacks()
    if schedule_epochs is not None and est.lr_schedule == "cosine":
        callbacks.append(("lr_schedule", FitLRScheduler(schedule_epochs)))
    for i, cb in enumerate(est._user_callbacks()):
        callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", cb))
    if est.verbose >= 2:
        callbacks.append(("progress", RowProgress()))
    callbacks.append(("keep_last_epoch", KeepLastEpoch()))
    if early_stopping:
        # after the others: stopping ends the epoch, and they should see it
        monitor = dict(VALID_LOSS_MONITOR, **est._early_stopping_monitor)
        callbacks.append(("early_stopping", FitEarlyStopping(
            patience=est.patience, threshold=est.tol, load_best=True, **monitor)))
    if checkpoint is not None:
        callbacks.append(("checkpoint", checkpoint))
    return callbacks


def make_net(est, module, criterion, device, *, corruption=None, valid_data=None,
             checkpoint=None, schedule_epochs=None):
    """Build and initialise (but do not train) the :class:`TrainingNet`.

    ``est`` supplies the training parameters (optimizer, lr, weight_decay,
    batch_size, max_epochs, patience, tol, precision, lr_schedule, verbose,
    callbacks); ``schedule_epochs`` is the length of the fit that the
    learning-rate schedule spans (None: a constant ``lr``).
    """
    net = TrainingNet(
        module=Prebuilt(module),
        criterion=Prebuilt(criterion),
        optimizer=OPTIMIZERS.get(est.optimizer, est.optimizer),
        optimizer__weight_decay=est.weight_decay,
        lr=est.lr,
        batch_size=est.batch_size,
        max_epochs=est.max_epochs,
        train_split=None if valid_data is None else predefined_split(valid_data),
        callbacks=_callbacks(est, criterion, valid_data is not None, checkpoint,
                             schedule_epochs),
        device=device,
        precision=est.precision,
        distributed=est.distributed,
        verbose=est.verbose,
        corruption=corruption,
    )
    return net.initialize()


def split_for_validation(est, n_samples, seed, stratify=None):
    """Indices ``(train, valid)`` for early stopping."""
    n_valid = int(np.ceil(est.validation_fraction * n_samples))
    if n_samples < 2 or n_samples - n_valid < 1:
        raise ValueError(
            f"early_stopping=True needs at least 2 samples to split off a "
            f"validation set; got {n_samples} sample(s) (1 sample cannot be split). "
            f"Use early_stopping=False for tiny data.")
    idx = np.arange(n_samples)
    try:
        return train_test_split(idx, test_size=n_valid, random_state=seed,
                                stratify=stratify)
    except ValueError:  # a class too small to stratify: fall back to random
        return train_test_split(idx, test_size=n_valid, random_state=seed)


def to_tensor(X, device, dtype=torch.float32):
    """A torch copy of ``X`` on ``device`` (never a view of the user's data)."""
    X = np.asarray(X)
    if X.dtype.kind == "f" and X.size and np.abs(X).max() > np.finfo(np.float32).max:
        raise ValueError("X holds values too large for the float32 range the network "
                         "computes in (|x| > 3.4e38); scale X.")
    return torch.tensor(np.ascontiguousarray(X), dtype=dtype, device=device)


def fingerprint(est, X, y, seed):
    """Hash of what decides a fit's course: parameters, data and seed.

    An out-of-core X is known by its shape, dtype and its first and last
    blocks (hashing terabytes for a checkpoint would cost a pass over them);
    a sparse one by its CSR arrays.
    """
    params = {k: v for k, v in est.get_params(deep=False).items()
              if k not in ("checkpoint", "verbose", "callbacks")}
    h = hashlib.sha256(json.dumps([type(est).__name__, repr(sorted(params.items())), seed])
                       .encode())
    if hasattr(X, "read"):
        h.update(str(X.shape).encode())
        if X.out_of_core:
            blocks = block_ranges(len(X), X.shape[1], est.batch_size)
            X = np.concatenate([X.read(*blocks[0]), X.read(*blocks[-1])])
        else:  # a sparse matrix: its arrays, as they are
            for part in (X.matrix.indptr, X.matrix.indices):
                h.update(np.ascontiguousarray(part).tobytes())
            X = X.matrix.data
    for arr in (X, y):
        if arr is not None:
            arr = np.ascontiguousarray(arr)
            h.update(str((arr.shape, arr.dtype.str)).encode())
            h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def _load_checkpoint(path, expected):
    """The saved state at ``path`` when it belongs to this fit, else None."""
    if path is None or not os.path.exists(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file: start afresh
        warnings.warn(f"checkpoint {os.fspath(path)!r} cannot be read ({exc}); "
                      "training from scratch.", stacklevel=4)
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != expected:
        warnings.warn(f"checkpoint {os.fspath(path)!r} belongs to a fit with other "
                      "parameters or data; training from scratch.", stacklevel=4)
        return None
    return state


def _resume(net, state, random):
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history = History([dict(row, batches=[]) for row in state["history"]])
    random.set_state(state["random"])


def train(est, module_builder, criterion, X, y=None, *, seed, device, early_stopping,
          corruption=None, valid_corruption=None, stratify=None, epochs=None,
          checkpoint=None):
    """Fit a fresh :class:`TrainingNet` on ``X`` (target ``y`` or X).

    ``X`` is a numpy array, held on the device as one tensor, or a source of
    :mod:`skae._data` (an out-of-core array or a sparse matrix, target X),
    made into batches one at a time (:class:`StreamData`).
    ``module_builder()`` builds the untrained module (its weights are drawn
    here, from the fit's generators). With ``early_stopping`` a validation
    split is held out, monitored with skorch's ``EarlyStopping`` and the best
    weights are restored at the end. The epochs of a fit follow
    ``est.lr_schedule``; ``epochs`` (partial_fit's first pass) overrides
    ``est.max_epochs`` and runs at the constant ``lr``.
    ``corruption(x, generator)`` corrupts each training batch and
    ``valid_corruption`` the validation inputs (with the same noise in every
    epoch) so that validation compares like with like. ``checkpoint`` (a
    path) saves the state after each epoch and resumes from it.
    """
    device = process_group(est.distributed, device)[2]  # cuda:LOCAL_RANK when data-parallel
    random = FitRandom(seed, device)
    if hasattr(X, "read"):
        data, valid = _stream_split(est, X, seed, device, early_stopping, valid_corruption,
                                    random)
    else:
        data, valid = _tensor_split(est, X, y, seed, device, early_stopping,
                                    valid_corruption, random, stratify)
    module = module_builder if isinstance(module_builder, torch.nn.Module) else \
        build_module(module_builder, random["init"], device)

    ckpt, state = None, None
    if checkpoint is not None:
        key = fingerprint(est, X, y, seed)
        state = _load_checkpoint(checkpoint, key)
        ckpt = EpochCheckpoint(checkpoint, key, random, resume=state)
    noise = random["noise"]
    n_epochs = est.max_epochs if epochs is None else epochs
    net = make_net(est, module, criterion, device, valid_data=valid, checkpoint=ckpt,
                   corruption=None if corruption is None else
                   (lambda x: corruption(x, noise)),
                   # a fit's epochs follow the schedule; partial_fit's one
                   # epoch (``epochs``) runs at the constant lr
                   schedule_epochs=n_epochs if epochs is None else None)
    net.random = random
    attach_generator(net.module_, random["module"])
    if state is not None:
        _resume(net, state, random)
    net.attach_processes()
    try:
        completed = _run(net, data, n_epochs - len(net.history), n_epochs)
    finally:
        net.detach_processes()
        attach_generator(net.module_, None)
        net.random = net.corruption = None
        # the validation data is not kept alive; the early stopping and the
        # checkpoint of this fit have ended with it (see their on_train_end)
        net.set_params(train_split=None)
    if completed and checkpoint is not None and os.path.exists(checkpoint):
        os.remove(checkpoint)  # an interrupted fit keeps it, to be resumed
    return net


def _stream_data(source, device, batch_size, exclude=()):
    """The rows of a source (less the ``exclude`` ranges) as one :class:`StreamData`."""
    if source.out_of_core:
        return StreamData(source, device, exclude=exclude,
                          blocks=block_ranges(len(source), source.shape[1], batch_size))
    return StreamData(source, device, rows=np.arange(len(source)))


def _tensor_split(est, X, y, seed, device, early_stopping, valid_corruption, random,
                  stratify):
    """Training and validation :class:`TensorData` of an in-memory X."""
    Xt = to_tensor(X, device)
    yt = None if y is None else torch.as_tensor(y, device=device)
    if not early_stopping:
        return TensorData(Xt, yt), None
    train_idx, valid_idx = split_for_validation(est, X.shape[0], seed, stratify)
    tr = torch.as_tensor(train_idx, device=device)
    va = torch.as_tensor(valid_idx, device=device)
    Xv = Xt[va]
    yv = Xv if yt is None else yt[va]
    if valid_corruption is not None:
        Xv = valid_corruption(Xv, random["valid_noise"])
    return TensorData(Xt[tr], None if yt is None else yt[tr]), TensorData(Xv, yv)


def _stream_split(est, source, seed, device, early_stopping, valid_corruption, random):
    """Training and validation :class:`StreamData` of a source.

    A sparse matrix is split as an in-memory array is (the same rows); an
    out-of-core array by chunks of consecutive rows drawn from the seed
    (:func:`~skae._data.validation_ranges`), so that every read stays
    sequential.
    """
    if not early_stopping:
        return _stream_data(source, device, est.batch_size), None
    n = len(source)
    noise = None
    if valid_corruption is not None:
        noise = (valid_corruption, random["valid_noise"].get_state())
    if not source.out_of_core:
        train_idx, valid_idx = split_for_validation(est, n, seed)
        # the rows in the order the in-memory split gives them, so that the
        # batches are those of the dense array
        return (StreamData(source, device, rows=train_idx),
                StreamData(source, device, rows=valid_idx, corruption=noise))
    valid = validation_ranges(n, est.batch_size, est.validation_fraction, seed)
    return (_stream_data(source, device, est.batch_size, exclude=valid),
            StreamData(source, device, blocks=valid, corruption=noise))


def _run(net, data, epochs, max_epochs):
    """``net.partial_fit`` with divergence and interrupts handled.

    Returns False when a ``KeyboardInterrupt`` cut training short.
    """
    es = dict(net.callbacks_).get("early_stopping")
    try:
        if epochs > 0:
            net.partial_fit(data, epochs=epochs)
    except TrainingDiverged as exc:
        kept = es is not None and es.best_model_weights_ is not None
        what = "training" if exc.training else "validation"
        if not kept:
            raise ValueError(
                f"training diverged: the {what} loss became NaN or infinite in "
                f"epoch {exc.epoch}. The usual causes are a learning rate that is too "
                f"high (lower lr) or unscaled input (scale X, e.g. StandardScaler or "
                f"MinMaxScaler).") from None
        es.restore_best(net)
        _trim_history(net)
        warnings.warn(
            f"training diverged: the {what} loss became NaN or infinite in epoch "
            f"{exc.epoch}; training stopped and the weights of epoch {es.best_epoch_} "
            f"(the best validation score) were restored. Lower the learning rate or "
            f"scale X to train further.", RuntimeWarning, stacklevel=4)
        return True
    stopped_early = es is not None and es.misses_ >= es.patience
    if getattr(net, "interrupted", False) and not stopped_early:
        _trim_history(net)
        done = len(net.history)
        if done == 0:
            raise KeyboardInterrupt
        if es is not None and es.best_epoch_:  # FitEarlyStopping restored them
            kept = f"the weights of epoch {es.best_epoch_} (the best so far) were kept"
        else:  # KeepLastEpoch put them back
            kept = f"the weights after epoch {done} were kept"
        warnings.warn(f"training was interrupted at epoch {done + 1} of {max_epochs} "
                      f"(KeyboardInterrupt); {kept}.", RuntimeWarning, stacklevel=4)
        _check_finite_weights(net)
        return False
    _check_finite_weights(net)
    return True


def _trim_history(net):
    """Drop the trailing epoch that did not complete."""
    while len(net.history) and "train_loss" not in net.history[-1]:
        net.history.pop()


def _check_finite_weights(net):
    for name, p in net.module_.named_parameters():
        if not torch.isfinite(p).all():
            raise ValueError(f"training produced non-finite weights ({name}); lower "
                             f"the learning rate or scale X.")


def train_more(net, X, y=None, *, seed, device, epochs=1, corruption=None):
    """One more pass (``partial_fit``) of an already trained net over ``X``
    (an array or a source, as in :func:`train`)."""
    random = FitRandom(seed, device)
    if hasattr(X, "read"):
        data = _stream_data(X, device, net.batch_size)
    else:
        data = TensorData(to_tensor(X, device),
                          None if y is None else torch.as_tensor(y, device=device))
    noise = random["noise"]
    net.random = random
    net.corruption = None if corruption is None else (lambda x: corruption(x, noise))
    attach_generator(net.module_, random["module"])
    net.attach_processes()
    try:
        _run(net, data, epochs, len(net.history) + epochs)
    finally:
        net.detach_processes()
        attach_generator(net.module_, None)
        net.random = net.corruption = None
    return net


def rebuild_net(est, module, criterion, history):
    """An initialized :class:`TrainingNet` around already trained weights (CPU).

    Used when loading a saved model: the net is ready for inference and for
    ``partial_fit``; ``history`` (records from :func:`history_records`) is put
    back so that epochs keep counting.
    """
    net = make_net(est, module, criterion, "cpu")
    net.history = History([dict(row, batches=[]) for row in history])
    return net


def history_records(history):
    """skorch history as one plain dict per epoch (no per-batch entries)."""
    return [{k: _plain(v) for k, v in row.items()
             if k != "batches" and not k.endswith(("_best", "_batch_count"))}
            for row in history]


def _plain(value):
    """numpy scalars as Python numbers (JSON and ``weights_only`` loads take those)."""
    return value.item() if isinstance(value, np.generic) else value


def predict_batches(fn, X, n_out, device, out_dtype, reduce=None, batch_size=None):
    """Apply ``fn`` (tensor -> tensor) to ``X`` in batches under inference mode.

    Every batch is padded with zero rows to ``batch_size`` (default:
    :data:`INFERENCE_BATCH_SIZE` on CPU, :data:`GPU_INFERENCE_BATCH_SIZE` on
    a GPU), so each row runs
    through kernels of the same shape: on CPU its output is bitwise the same
    whatever other rows share the call. Only one batch of input is converted
    at a time and results are written into a preallocated ``(n_samples,
    n_out)`` array of ``out_dtype``. With ``reduce(out_batch, X_batch) -> 1-D
    array`` the result is one value per sample instead (``n_out`` is then
    ignored), so that e.g. a per-sample reconstruction error never
    materialises the full reconstruction.

    Raises ``ValueError`` when finite input gives a non-finite output (values
    too large for float32 arithmetic), so NaN never leaves a fitted model.
    """
    if batch_size is None:
        batch_size = (INFERENCE_BATCH_SIZE if torch.device(device).type == "cpu"
                      else GPU_INFERENCE_BATCH_SIZE)
    n = X.shape[0]
    out = np.empty((n,) if reduce is not None else (n, n_out), dtype=out_dtype)
    # a source (out-of-core or sparse) is read a block of batches at a time
    with torch.inference_mode():
        for offset, X_block in read_blocks(X, block_rows(X.shape[1], batch_size)):
            for start in range(0, X_block.shape[0], batch_size):
                X_batch = X_block[start:start + batch_size]
                m = X_batch.shape[0]
                xb = np.zeros((batch_size, *X_batch.shape[1:]), dtype=np.float32)
                xb[:m] = X_batch
                result = fn(torch.from_numpy(xb).to(device))[:m]
                if not torch.isfinite(result).all():
                    raise ValueError(
                        "the network's output is not finite for this finite input: its "
                        "values are too large for float32 arithmetic (an overflow). "
                        "Scale X to the range it was trained on.")
                result = result.cpu().numpy()
                if reduce is not None:
                    result = reduce(result, X_batch)
                out[offset + start:offset + start + m] = result
    return out
