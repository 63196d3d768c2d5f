# %% [markdown]
# # Tutorial: evolve digits, watch, judge, compare
#
# A jupytext script: run it as it is (`python docs/tutorial.py`, about half
# a minute on two cores), or open it as a notebook (`jupytext --to notebook
# docs/tutorial.py`). It uses the built-in 8x8 digits, so nothing is
# downloaded, and writes its files into `tutorial-output/` (or
# `$EVOGAN_TUTORIAL_OUT`).

# %%
import os
from pathlib import Path

import torch

import evogan
from evogan.config import Config
from evogan.outputs.plots import save_grid
from evogan.quality.evaluate import build_evaluator

out = Path(os.environ.get("EVOGAN_TUTORIAL_OUT", "tutorial-output"))
out.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)

# %% [markdown]
# ## 1. A genetic algorithm
#
# Each agent is a generator whose weights are its genome. Every generation
# the critic (a small convolutional discriminator) trains on real digits
# against the agents' fakes, then scores every agent; the best survive,
# mix their weights and mutate. `evolve` takes any option of the
# [Options](options.md) page as a keyword.

# %%
small = {"dataset": "digits", "population": 32, "generations": 40, "seed": 0,
         "threads": 1, "progress": False}  # fmt: skip
ga = evogan.evolve(trainer="ga", **small)
print(f"GA: {ga.generations} generations, stopped by {sorted(ga.stop)}")
first, last = ga.history[0], ga.history[-1]
print(f"critic's opinion of the best agent: {first['fitness/best']:.3f} -> "
      f"{last['fitness/best']:.3f}")  # fmt: skip

# %% [markdown]
# `history` holds one dict of metrics per generation: the population's
# fitness, the critic's loss and accuracy, the mutation step. The critic's
# opinion usually falls while the digits get better: the critic learns too,
# so fitness is relative to a moving judge (section 3 judges with a fixed
# one). A picture of the returned generator's samples:

# %%
images = evogan.sample(ga.generator, 64, seed=1)
save_grid(images, out / "ga.png", title="GA, 40 generations")
print(images.shape, "->", out / "ga.png")

# %% [markdown]
# ## 2. Evolution strategies, same budget
#
# ES keeps one mean genome and moves it along the critic's verdict on
# antithetic perturbations of it; the returned generator is the mean.

# %%
es = evogan.evolve(trainer="es", es_sigma=0.5, es_lr=0.2, **small)

# %% [markdown]
# ## 3. Judge both honestly
#
# Fitness is the critic's opinion, and the critic changes every generation,
# so it cannot compare runs. An independent classifier, trained on the
# training images, judges samples against held-out real images: FID in its
# feature space (lower is better), class entropy (ln 10 = 2.30 when every
# digit is drawn equally often) and recall (how much of the real variety
# the samples cover).

# %%
config = Config(dataset="digits", subset="0:1000")  # train on 0-999, judge against the rest
evaluator, note = build_evaluator(config, cache_dir=out / "cache")
reports = {name: evaluator.evaluate(evogan.sample(result.generator, 500, seed=2))
           for name, result in (("ga", ga), ("es", es))}  # fmt: skip
for name, report in reports.items():
    print(f"{name}: FID {report.fid:7.1f}  class entropy {report.class_entropy:.2f}  "
          f"recall {report.recall:.2f}")  # fmt: skip

# %% [markdown]
# Forty generations are a first look, not a result: `make demo` runs the
# tuned `demo` preset for 150 s, and the [benchmarks](benchmarks.md) compare
# the trainers on real MNIST for minutes to an hour.
#
# ## 4. Keep the generator
#
# A generator is saved as safetensors weights plus a JSON description, and
# loads without the run that made it.

# %%
from evogan.run.export import save_generator  # noqa: E402

(out / "ga-generator").mkdir(exist_ok=True)
save_generator(ga.generator, out / "ga-generator")
again = evogan.load_generator(out / "ga-generator")
assert torch.equal(evogan.sample(again, 8, seed=3), evogan.sample(ga.generator, 8, seed=3))
print("reloaded generator draws the same digits")
