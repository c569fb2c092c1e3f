"""
Variational autoencoder: sampling, latent grid, interpolation
=============================================================

:class:`~skae.VAETransformer` is a variational autoencoder: its encoder gives
a Gaussian distribution over codes, and training pulls those distributions
towards the standard normal prior (the KL term of the ELBO). The decoder then
turns *any* code drawn from the prior into a plausible image, which makes the
VAE a generator as well as a transformer:

* :meth:`~skae.VAETransformer.sample` decodes random codes from the prior;
* with a 2-D code, decoding a regular grid of codes shows the whole learned
  manifold at once (:func:`skae.plotting.plot_latent_grid`);
* walking in a straight line between the codes of two images morphs one into
  the other through plausible images, where averaging pixels only
  cross-fades them.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets; ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``) shrinks the run to
the part that the tests check.
"""

# %%
# Settings and data
# -----------------
import matplotlib.pyplot as plt
import numpy as np

from skae import VAETransformer
from skae.datasets import load_train_test, parse_example_args
from skae.plotting import (
    plot_history,
    plot_latent_grid,
    plot_latent_space,
    plot_reconstructions,
    plot_samples,
)

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

n_train, n_test = (None, None) if digits else (20_000, 2_000)
params = dict(max_epochs=100 if digits else 30, patience=10, random_state=0)
if quick:
    n_train, n_test = (None, None) if digits else (2_000, 500)
    params.update(max_epochs=60)

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)

# %%
# Two VAEs
# --------
# A 2-D VAE whose whole latent space can be drawn, and a wider one (8 codes on
# digits, 16 on the 28x28 sets) that reconstructs and generates better.
# ``score`` is the mean ELBO per image in nats (higher is better).
vae2 = VAETransformer(n_components=2, **params).fit(X_train)
vae = VAETransformer(n_components=8 if digits else 16, **params).fit(X_train)
for model in (vae2, vae):
    print(f"n_components={model.n_components:2d}: {model.n_iter_} epochs, "
          f"test ELBO {model.score(X_test):.1f} nats per image")

fig = plot_history({"2-D VAE": vae2, f"{vae.n_components}-D VAE": vae},
                   title="Negative ELBO per image during training")

# %%
# Samples from the prior
# ----------------------
# Codes drawn from N(0, I) and decoded: new images, not copies of training
# images. The wider VAE's samples are sharper.
fig = plot_samples(vae, n_samples=64, image_shape=image_shape, random_state=0,
                   title=f"Samples of the {vae.n_components}-D VAE")

# %%
# The 2-D latent space
# --------------------
# The test images' codes (posterior means), coloured by class ...
fig = plot_latent_space(vae2, X_test, y_test, title="2-D VAE: codes of the test images")

# %%
# ... and the images that a regular grid of codes decodes to. The grid covers
# the central part of the prior, where the classes sit side by side and blend
# into each other.
fig = plot_latent_grid(vae2, n=15, image_shape=image_shape,
                       title="2-D VAE: decoded grid of codes")
# sphinx_gallery_thumbnail_number = 4

# %%
# Interpolation between two images
# --------------------------------
# Codes on the straight line between the codes of two test images of
# different classes, decoded; below, the same steps in pixel space.
first, second = (7, 9) if args.dataset == "fashion-mnist" else (3, 8)
a = X_test[np.flatnonzero(y_test == first)[0]]
b = X_test[np.flatnonzero(y_test == second)[0]]
t = np.linspace(0.0, 1.0, 10, dtype=np.float32)[:, None]
z_a, z_b = vae.transform(np.stack([a, b]))
fig = plot_reconstructions(
    {"latent space": vae.inverse_transform((1 - t) * z_a + t * z_b),
     "pixel space": (1 - t) * a + t * b},
    n_images=len(t), image_shape=image_shape,
    title=f"From a {first} to an {second}" if digits or args.dataset == "mnist"
    else "From a sneaker to an ankle boot")

# %%
# The answer
# ----------
# ``score`` is the mean ELBO per test image: a higher value means the model
# explains the test images better.
elbo = {model.n_components: model.score(X_test) for model in (vae2, vae)}
wide, narrow = vae.n_components, vae2.n_components
answer = (f"the {wide}-D VAE's test ELBO is {elbo[wide]:.1f} nats per image, "
          f"{abs(elbo[wide] - elbo[narrow]):.1f} nats "
          f"{'above' if elbo[wide] > elbo[narrow] else 'below'} the 2-D VAE's "
          f"({elbo[narrow]:.1f}), whose whole latent space fits in one picture.")
print("Answer:", answer)

plt.show()
