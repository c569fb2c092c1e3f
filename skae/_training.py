"""The one training core used by every skae estimator.

An estimator builds its torch module and loss, then calls :func:`train` (a full
fit, with the optional early-stopping split) or :func:`train_more` (one more
pass for ``partial_fit``). Both run a skorch :class:`~skorch.NeuralNet`
subclass, :class:`TrainingNet`, whose data path is kept lean:

* batches are slices of in-memory tensors taken through a shuffled
  permutation (:class:`BatchIterator`): no per-sample ``__getitem__`` and no
  collate;
* an optional ``corruption`` callable is applied to each training batch (the
  target stays clean): this is how denoising autoencoders train;
* randomness (weight init, dropout, shuffling, noise, the validation split)
  comes from one seed, inside :func:`torch.random.fork_rng`, so the global RNG
  state is left as it was.

Inference goes through :func:`predict_batches`: batches under
``torch.inference_mode()``, written into a preallocated output array so that
memory stays bounded by the output plus a few batches.
"""

import contextlib
import copy

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

#: rows per inference batch; bounded memory whatever the input size
INFERENCE_BATCH_SIZE = 2048


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available; "
                         "use device='auto' or device='cpu'.")
    return device


@contextlib.contextmanager
def seeded(seed, device="cpu"):
    """Seed torch for the block without leaking global RNG state."""
    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class TensorData:
    """Input tensor ``X`` and target tensor ``y`` (``None``: the target is X)."""

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return self.X.shape[0]


class BatchIterator:
    """Yield ``(X_batch, y_batch)`` slices of a :class:`TensorData`.

    With ``shuffle=True`` each pass draws a new permutation from
    ``generator`` and gathers rows with one indexing operation per batch.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n, bs = len(self.dataset), self.batch_size
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator).to(X.device)
            for start in range(0, n, bs):
                idx = perm[start:start + bs]
                xb = X[idx]
                yield xb, (xb if y is None else y[idx])
        else:
            for start in range(0, n, bs):
                xb = X[start:start + bs]
                yield xb, (xb if y is None else y[start:start + bs])


class TrainingNet(NeuralNet):
    """skorch net with skae's in-memory batches and optional input corruption.

    Internal: the public estimators hold one of these as ``net_``. A
    criterion that sets a ``terms`` dict (name -> scalar tensor, per batch)
    gets each term averaged per epoch into the history as
    ``train_<name>`` / ``valid_<name>``.
    """

    def __init__(self, *args, corruption=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.corruption = corruption
        self.shuffle_generator = None

    def get_dataset(self, X, y=None):
        return X if isinstance(X, TensorData) else TensorData(X, y)

    def get_iterator(self, dataset, training=False):
        return BatchIterator(dataset, self.batch_size, shuffle=training,
                             generator=self.shuffle_generator)

    def _set_training(self, training=True):
        # skorch calls this on every batch; walking the module tree only when
        # the mode really changes keeps per-batch overhead small.
        if getattr(self, "_training_mode", None) is not training:
            super()._set_training(training)
            self._training_mode = training

    @property
    def weights_device(self):
        """Where the trained weights live (CPU after loading a CUDA model)."""
        return next(self.module_.parameters()).device

    def prepare_inference(self):
        """Put the module in eval mode (dropout off); return the weights' device."""
        self.module_.eval()
        self._training_mode = False
        return self.weights_device

    def initialize_module(self):
        self._training_mode = None
        return super().initialize_module()

    def __getstate__(self):
        # skae hands skorch the module and criterion as instances, so the
        # `module` parameter is the very object `module_` is. skorch pickles
        # only the `module_`-like attributes through its device-mapping path;
        # routing the instances with them keeps one copy of the weights and
        # lets a CUDA-trained model be unpickled on a machine without CUDA.
        prefixes = self.cuda_dependent_attributes_
        self.cuda_dependent_attributes_ = [*prefixes, "module", "criterion"]
        try:
            state = super().__getstate__()
        finally:
            self.cuda_dependent_attributes_ = prefixes
        state["cuda_dependent_attributes_"] = prefixes
        state["shuffle_generator"] = None
        state.pop("_training_mode", None)
        return state

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        if self.corruption is not None:
            Xi = self.corruption(Xi)
        y_pred = self.module_(Xi)
        loss = self.criterion_(y_pred, yi)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi = batch
        with torch.inference_mode():
            y_pred = self.module_(Xi)
            loss = self.criterion_(y_pred, yi)
        return {"loss": loss, "y_pred": y_pred}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # Same bookkeeping as skorch's, without its generic length lookups.
        if iterator is None:
            return
        batch_count = 0
        record = self.history.record_batch
        term_sums, n_seen = {}, 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            record(prefix + "_loss", step["loss"].item())
            n = batch[0].shape[0]
            record(prefix + "_batch_size", n)
            terms = getattr(self.criterion_, "terms", None)
            if terms:
                for name, value in terms.items():
                    term_sums[name] = term_sums.get(name, 0.0) + float(value) * n
            n_seen += n
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)
        for name, total in term_sums.items():
            # e.g. a VAE's reconstruction and KL terms, averaged over the epoch
            self.history.record(f"{prefix}_{name}", total / max(n_seen, 1))


def derive_seed(random_state):
    """One int seed from an sklearn ``random_state`` (int, RandomState, None)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def to_tensor(X, device, dtype=torch.float32):
    """A torch copy of ``X`` on ``device`` (never a view of the user's data)."""
    return torch.tensor(np.asarray(X), dtype=dtype, device=device)


#: what early stopping watches unless an estimator's ``_early_stopping_monitor``
#: says otherwise (e.g. the classifier's validation accuracy)
VALID_LOSS_MONITOR = dict(monitor="valid_loss", lower_is_better=True, threshold_mode="rel")


def _callbacks(est, with_validation):
    # callbacks an estimator needs for itself (e.g. a VAE's KL warm-up); they
    # are rebuilt from the parameters, so they also come back after skae.load
    hook = getattr(est, "_training_callbacks", None)
    callbacks = list(hook() if hook is not None else [])
    for i, cb in enumerate(copy.deepcopy(est.callbacks) or []):
        callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", cb))
    if with_validation:
        # last: stopping ends the epoch, and the other callbacks should see it
        monitor = dict(VALID_LOSS_MONITOR, **getattr(est, "_early_stopping_monitor", {}))
        callbacks.append(("early_stopping", EarlyStopping(
            patience=est.patience, threshold=est.tol, load_best=True, **monitor)))
    return callbacks


def make_net(est, module, criterion, device, corruption=None, valid_data=None):
    """Build (but do not train) the :class:`TrainingNet` for an estimator.

    ``est`` supplies the training parameters (optimizer, lr, weight_decay,
    batch_size, max_epochs, patience, tol, verbose, callbacks).
    """
    optimizer = OPTIMIZERS.get(est.optimizer, est.optimizer)
    return TrainingNet(
        module=module,
        criterion=criterion,
        optimizer=optimizer,
        optimizer__weight_decay=est.weight_decay,
        lr=est.lr,
        batch_size=est.batch_size,
        max_epochs=est.max_epochs,
        train_split=None if valid_data is None else predefined_split(valid_data),
        callbacks=_callbacks(est, valid_data is not None),
        device=device,
        verbose=est.verbose,
        corruption=corruption,
    )


def split_for_validation(est, n_samples, seed, stratify=None):
    """Indices ``(train, valid)`` for early stopping, or ``(None, None)``."""
    if not est.early_stopping:
        return None, None
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


def train(est, module, criterion, X, y=None, *, seed, device, corruption=None,
          valid_corruption=None, stratify=None, epochs=None):
    """Fit a fresh :class:`TrainingNet` on numpy ``X`` (target ``y`` or X).

    Returns the trained net. With ``est.early_stopping`` a validation split is
    held out, monitored with skorch's ``EarlyStopping`` and the best weights
    are restored at the end; ``epochs`` overrides ``est.max_epochs``. ``valid_corruption`` corrupts the validation
    inputs once (fixed noise) so that validation compares like with like.
    """
    train_idx, valid_idx = split_for_validation(est, X.shape[0], seed, stratify)
    Xt = to_tensor(X, device)
    yt = None if y is None else torch.as_tensor(y, device=device)
    valid = None
    with seeded(seed, device):
        if train_idx is not None:
            tr, va = torch.as_tensor(train_idx), torch.as_tensor(valid_idx)
            Xv = Xt[va.to(device)]
            yv = Xv if yt is None else yt[va.to(device)]
            if valid_corruption is not None:
                Xv = valid_corruption(Xv)
            valid = TensorData(Xv, yv)
            yt = None if yt is None else yt[tr.to(device)]
            Xt = Xt[tr.to(device)]
        net = make_net(est, module, criterion, device, corruption, valid)
        net.initialize()
        net.shuffle_generator = torch.Generator().manual_seed(seed + 1)
        try:
            net.partial_fit(TensorData(Xt, yt), epochs=epochs)
        finally:
            net.shuffle_generator = None
            net.corruption = None  # holds a generator; set again by partial_fit
            # the validation data is not kept alive, and later partial_fit
            # calls (no validation) must not be stopped early
            net.train_split = None
            net.callbacks_ = [(name, cb) for name, cb in net.callbacks_
                              if name != "early_stopping"]
    return net


def train_more(net, X, y=None, *, seed, device, epochs=1, corruption=None):
    """One more pass (``partial_fit``) of an already trained net."""
    Xt = to_tensor(X, device)
    yt = None if y is None else torch.as_tensor(y, device=device)
    with seeded(seed, device):
        net.corruption = corruption
        net.shuffle_generator = torch.Generator().manual_seed(seed + 1)
        try:
            net.partial_fit(TensorData(Xt, yt), epochs=epochs)
        finally:
            net.shuffle_generator = None
            net.corruption = None
    return net


def rebuild_net(est, module, criterion, history):
    """An initialized :class:`TrainingNet` around already trained weights (CPU).

    Used when loading a saved model: the net is ready for inference and for
    ``partial_fit``; ``history`` (records from :func:`history_records`) is put
    back so that epochs keep counting.
    """
    from skorch.history import History

    net = make_net(est, module, criterion, "cpu")
    net.initialize()
    net.history = History([dict(row, batches=[]) for row in history])
    return net


def history_records(history):
    """skorch history as one plain dict per epoch (no per-batch entries)."""
    return [{k: v for k, v in row.items()
             if k != "batches" and not k.endswith(("_best", "_batch_count"))}
            for row in history]


def predict_batches(fn, X, n_out, device, out_dtype, reduce=None,
                    batch_size=INFERENCE_BATCH_SIZE):
    """Apply ``fn`` (tensor -> tensor) to ``X`` in batches under inference mode.

    Only one batch of input is converted at a time and results are written
    into a preallocated ``(n_samples, n_out)`` array of ``out_dtype``. With
    ``reduce(out_batch, X_batch) -> 1-D array`` the result is one value per
    sample instead (``n_out`` is then ignored), so that e.g. a per-sample
    reconstruction error never materialises the full reconstruction.
    """
    n = X.shape[0]
    out = np.empty((n,) if reduce is not None else (n, n_out), dtype=out_dtype)
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            X_batch = X[start:start + batch_size]
            xb = torch.from_numpy(np.array(X_batch, dtype=np.float32)).to(device)
            result = fn(xb).cpu().numpy()
            if reduce is not None:
                result = reduce(result, X_batch)
            out[start:start + batch_size] = result
    return out
