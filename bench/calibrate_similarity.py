"""Fit the cosine -> Similarity curve on the shared face set, and say how well it holds.

    .venv/bin/python bench/calibrate_similarity.py [--version 1.0] [--fmr 1e-3] [--boot 2000]

Each face model version has its own curve (``recognito.faces.similarity.FACE_MODELS``): ``--version``
embeds the set with that version's model and fits that version's anchors.

Data: ``../shared/datasets/faces`` (147 photos of 25 people, SOURCES.md), none of which any test
uses. Every photo goes through the real pipeline (bench/_face_set.py: CompareFaces' largest-face
step, the shipped crop and embedder; cached in .cache/face_set/). Photos without a face are listed,
not dropped silently (they then take part in no pair). Pairs: every two photos of one person
(genuine) and every two photos of different people (impostor).

The curve keeps its logistic form (recognito/faces/similarity.py): Similarity 80 is put at the
cosine where the impostors' false-match rate on this set is ``--fmr`` (rounded up to 0.01, so the
in-sample rate is at most that) and 99 at the genuine pairs' median (rounded), so a clear photo of
the same person scores in the high 90s as at AWS. A logistic regression of P(same | cosine) is
not used: its 50/80/99 would be posteriors under this set's 4% genuine prior, which is no user's
prior; an isotonic fit would turn ~450 genuine pairs into a staircase of tied scores. What users
rely on is what a threshold means, FMR and FNMR at 80 (the default) and above, so that is what
is anchored and reported.

Uncertainty: pairs are not independent (one photo is in 146 pairs, one person in ~600), so 95%
intervals come from a bootstrap over identities (people resampled with replacement, every pair
of the drawn people kept, pairs between two draws of one person dropped). Clopper-Pearson on the
pair counts is printed beside it: it treats pairs as independent, so it is too narrow wherever
errors cluster on a few people, but unlike the bootstrap it does not collapse to [0, 0] when no
error is seen. How well the fit holds out of sample: 5-fold cross-validation over identities
(anchors fitted on the pairs of 4/5 of the people, rates counted on the pairs involving the rest).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

LEVELS = (80.0, 90.0, 99.0)


@dataclass(frozen=True)
class Pairs:
    """Every pair of embedded photos: cosine, same person or not, the two people and photos."""

    cosine: np.ndarray  # (n,)
    genuine: np.ndarray  # (n,) bool
    person_a: np.ndarray  # (n,) identity index
    person_b: np.ndarray
    photo_a: np.ndarray  # (n,) photo index
    photo_b: np.ndarray
    same_source: np.ndarray  # (n,) bool: both photos from one source repository
    identities: list[str]


def make_pairs(photos: list) -> Pairs:
    identities = sorted({photo.identity for photo in photos})
    index = {name: i for i, name in enumerate(identities)}
    embeddings = np.stack([photo.embedding for photo in photos])
    a, b = np.triu_indices(len(photos), k=1)
    people = np.array([index[photo.identity] for photo in photos])
    sources = np.array([photo.source for photo in photos])
    return Pairs(
        cosine=np.einsum("ij,ij->i", embeddings[a], embeddings[b]).astype(np.float64),
        genuine=people[a] == people[b],
        person_a=people[a],
        person_b=people[b],
        photo_a=a,
        photo_b=b,
        same_source=sources[a] == sources[b],
        identities=identities,
    )


def curve_cosine(similarity: float, at_80: float, at_99: float) -> float:
    """The cosine where the logistic through (at_80, 80) and (at_99, 99) reaches ``similarity``.

    The shipped curve's inverse (``cosine_for_similarity``) for any pair of anchors; ``main``
    checks that it agrees with the shipped one for the constants in the code.
    """
    slope = math.log(99.0 / 4.0) / (at_99 - at_80)
    at_50 = at_80 - math.log(4.0) / slope
    return at_50 - math.log(100.0 / similarity - 1.0) / slope


def fit_anchors(pairs: Pairs, fmr: float, mask: np.ndarray | None = None) -> tuple[float, float]:
    """(cosine at 80, cosine at 99): 80 where at most ``fmr`` of impostors reach it, 99 at the genuine median."""
    keep = np.ones_like(pairs.genuine) if mask is None else mask
    impostor = np.sort(pairs.cosine[keep & ~pairs.genuine])[::-1]
    allowed = int(math.floor(fmr * len(impostor)))
    # Strictly above the first impostor that must not match, rounded up to 0.01.
    at_80 = math.floor(impostor[allowed] * 100.0 + 1.0) / 100.0
    at_99 = round(float(np.median(pairs.cosine[keep & pairs.genuine])), 2)
    return at_80, at_99


def clopper_pearson(errors: int, total: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    tail = (1.0 - level) / 2.0
    low = 0.0 if errors == 0 else float(beta.ppf(tail, errors, total - errors + 1))
    high = 1.0 if errors == total else float(beta.ppf(1.0 - tail, errors + 1, total - errors))
    return low, high


class IdentityBootstrap:
    """Rates under resampled people: one draw of weights serves every threshold and the AUC."""

    def __init__(self, pairs: Pairs, draws: int, seed: int = 0) -> None:
        self.pairs = pairs
        count = len(pairs.identities)
        self.weights = np.random.default_rng(seed).multinomial(count, np.full(count, 1.0 / count), size=draws)

    def _impostor_weights(self, select: np.ndarray) -> np.ndarray:
        """(draws,) total weight of the selected impostor pairs: w_a * w_b per pair of people."""
        p = self.pairs
        count = len(p.identities)
        matrix = np.zeros((count, count))
        np.add.at(matrix, (p.person_a[select], p.person_b[select]), 1.0)
        return np.einsum("dk,kl,dl->d", self.weights, matrix, self.weights)

    def _genuine_weights(self, select: np.ndarray) -> np.ndarray:
        counts = np.bincount(self.pairs.person_a[select], minlength=len(self.pairs.identities))
        return self.weights @ counts

    def fmr(self, threshold: float) -> tuple[float, float]:
        p = self.pairs
        impostor = ~p.genuine
        rates = self._impostor_weights(impostor & (p.cosine >= threshold)) / self._impostor_weights(impostor)
        return tuple(np.percentile(rates, [2.5, 97.5]))

    def fnmr(self, threshold: float) -> tuple[float, float]:
        p = self.pairs
        rates = self._genuine_weights(p.genuine & (p.cosine < threshold)) / self._genuine_weights(p.genuine)
        return tuple(np.percentile(rates, [2.5, 97.5]))

    def auc(self) -> tuple[float, float]:
        p = self.pairs
        values = [
            weighted_auc(p.cosine[p.genuine], w[p.person_a[p.genuine]], p.cosine[~p.genuine],
                         w[p.person_a[~p.genuine]] * w[p.person_b[~p.genuine]])
            for w in self.weights
        ]  # fmt: skip
        return tuple(np.percentile(values, [2.5, 97.5]))


def weighted_auc(genuine: np.ndarray, genuine_w: np.ndarray, impostor: np.ndarray, impostor_w: np.ndarray) -> float:
    """P(a genuine pair outscores an impostor pair), ties half, with pair weights (ROC AUC)."""
    order = np.argsort(impostor, kind="stable")
    values, cumulative = impostor[order], np.concatenate([[0.0], np.cumsum(impostor_w[order])])
    below = cumulative[np.searchsorted(values, genuine, side="left")]
    tied = cumulative[np.searchsorted(values, genuine, side="right")] - below
    return float(np.sum(genuine_w * (below + 0.5 * tied)) / (genuine_w.sum() * impostor_w.sum()))


_ROW = "{:>10} {:>7} | {:>9} {:>12} {:>20} {:>20} | {:>6} {:>12} {:>15} {:>15}"


def _interval(bounds: tuple[float, float], spec: str) -> str:
    return f"[{bounds[0]:{spec}}, {bounds[1]:{spec}}]"


def rate_table(pairs: Pairs, boot: IdentityBootstrap, at_80: float, at_99: float, title: str) -> None:
    """FMR and FNMR at Similarity 80, 90, 99 for the curve with these anchors, with 95% intervals."""
    genuine, impostor = pairs.cosine[pairs.genuine], pairs.cosine[~pairs.genuine]
    print(f"\n{title}: anchors cosine {at_80:.2f} -> 80, {at_99:.2f} -> 99")
    header = ("Similarity", "cosine", "FMR", "errors/pairs", "bootstrap 95%", "Clopper-Pearson", "FNMR",
              "errors/pairs", "bootstrap 95%", "Clopper-Pearson")  # fmt: skip
    print(_ROW.format(*header))
    for level in LEVELS:
        threshold = curve_cosine(level, at_80, at_99)
        false_matches = int((impostor >= threshold).sum())
        misses = int((genuine < threshold).sum())
        fmr_boot, fnmr_boot = boot.fmr(threshold), boot.fnmr(threshold)
        fmr_cp, fnmr_cp = clopper_pearson(false_matches, len(impostor)), clopper_pearson(misses, len(genuine))
        print(
            _ROW.format(
                f"{level:.0f}", f"{threshold:.3f}", f"{false_matches / len(impostor):.2e}",
                f"{false_matches}/{len(impostor)}", _interval(fmr_boot, ".1e"), _interval(fmr_cp, ".1e"),
                f"{misses / len(genuine):.3f}", f"{misses}/{len(genuine)}", _interval(fnmr_boot, ".3f"),
                _interval(fnmr_cp, ".3f"),
            )
        )  # fmt: skip


def describe(pairs: Pairs, photos: list, boot: IdentityBootstrap) -> None:
    """Pair counts, cosine distributions, AUC, and the pairs nearest the wrong side."""
    genuine, impostor = pairs.cosine[pairs.genuine], pairs.cosine[~pairs.genuine]
    same_source = pairs.same_source & ~pairs.genuine
    print(
        f"pairs: {len(genuine)} genuine, {len(impostor)} impostor ({int(same_source.sum())} between people of one "
        f"source, {int((~pairs.same_source).sum())} across sources), {len(pairs.identities)} people"
    )
    for name, values in (
        ("genuine", genuine),
        ("impostor", impostor),
        ("impostor, one source", pairs.cosine[same_source]),
    ):
        q = np.percentile(values, [0, 1, 5, 50, 95, 99, 99.9, 100])
        print(f"  {name:>21} cosine: mean {values.mean():.3f} sd {values.std():.3f}; "
              f"min/1/5/50/95/99/99.9%/max {' '.join(f'{v:.3f}' for v in q)}")  # fmt: skip
    auc = weighted_auc(genuine, np.ones_like(genuine), impostor, np.ones_like(impostor))
    low, high = boot.auc()
    print(f"ROC AUC {auc:.4f} (bootstrap over identities 95%: [{low:.4f}, {high:.4f}])")
    for name, select, order in (("highest impostor", ~pairs.genuine, -1), ("lowest genuine", pairs.genuine, 1)):
        chosen = np.flatnonzero(select)
        worst = chosen[np.argsort(order * pairs.cosine[chosen])[:8]]
        listed = ", ".join(
            f"{photos[pairs.photo_a[k]].path}~{photos[pairs.photo_b[k]].path} {pairs.cosine[k]:.3f}" for k in worst
        )
        print(f"  {name} pairs: {listed}")


def cross_validate(pairs: Pairs, fmr: float, folds: int = 5, seed: int = 0) -> None:
    """Anchors fitted without a fold's people; rates counted on the pairs involving them."""
    count = len(pairs.identities)
    fold_of = np.random.default_rng(seed).permutation(count) % folds
    totals = {level: [0, 0, 0, 0] for level in LEVELS}  # false matches, impostors, misses, genuine
    anchors = []
    for fold in range(folds):
        held_a, held_b = fold_of[pairs.person_a] == fold, fold_of[pairs.person_b] == fold
        at_80, at_99 = fit_anchors(pairs, fmr, mask=~held_a & ~held_b)
        anchors.append((at_80, at_99))
        test = held_a | held_b
        for level in LEVELS:
            threshold = curve_cosine(level, at_80, at_99)
            impostor = test & ~pairs.genuine
            genuine = test & pairs.genuine
            totals[level][0] += int((impostor & (pairs.cosine >= threshold)).sum())
            totals[level][1] += int(impostor.sum())
            totals[level][2] += int((genuine & (pairs.cosine < threshold)).sum())
            totals[level][3] += int(genuine.sum())
    print(f"\n{folds}-fold cross-validation over identities (anchors per fold: "
          f"{', '.join(f'{a:.2f}/{b:.2f}' for a, b in anchors)}):")  # fmt: skip
    for level, (fm, imp, miss, gen) in totals.items():
        print(
            f"  Similarity {level:.0f}: out-of-fold FMR {fm / imp:.2e} ({fm}/{imp}), "
            f"FNMR {miss / gen:.3f} ({miss}/{gen})"
        )


def by_source(pairs: Pairs, photos: list, at_80: float, at_99: float) -> None:
    """Rates at 80 within each source (people photographed alike) and across sources."""
    threshold = curve_cosine(80.0, at_80, at_99)
    sources = np.array([photo.source for photo in photos])
    print("\nat Similarity 80, by source of the photos:")
    for source in sorted(set(sources)):
        mine = (sources[pairs.photo_a] == source) & (sources[pairs.photo_b] == source)
        impostor, genuine = mine & ~pairs.genuine, mine & pairs.genuine
        fm, miss = (
            int((impostor & (pairs.cosine >= threshold)).sum()),
            int((genuine & (pairs.cosine < threshold)).sum()),
        )
        print(f"  {source:>28}: FMR {fm}/{int(impostor.sum())}, FNMR {miss}/{int(genuine.sum())}")
    across = ~pairs.same_source
    print(f"  {'across sources':>28}: FMR {int((across & (pairs.cosine >= threshold)).sum())}/{int(across.sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fmr", type=float, default=1e-3, help="false-match rate of impostors at Similarity 80")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap draws over identities")
    parser.add_argument("--version", default="2.0", help="face model version (similarity.FACE_MODELS)")
    args = parser.parse_args()

    from _face_set import FACE_SET, embedder, photos
    from recognito.faces import similarity as shipped
    from recognito_inference.face_embedder import EMBEDDERS, MARGIN

    everything = list(photos(version=args.version))
    missing = [photo for photo in everything if photo.embedding is None]
    model = embedder(args.version)
    # FaceNet's crop is the box plus a margin; SFace's the five-point warp (no margin).
    crop = f", crop margin {MARGIN}" if EMBEDDERS[model] is EMBEDDERS["facenet-int8"] else ""
    print(f"face model version {args.version}, embedder {model}{crop}; {len(everything)} photos of "
          f"{len({p.identity for p in everything})} people; no face found in {len(missing)}"
          + "".join(f"\n  NO FACE: {p.path} ({p.width}x{p.height}): {p.error}" for p in missing))  # fmt: skip
    embedded = [photo for photo in everything if photo.embedding is not None]
    per_person = {name: sum(p.identity == name for p in embedded) for name in sorted({p.identity for p in embedded})}
    print(f"photos per person: {per_person}")

    pairs = make_pairs(embedded)
    boot = IdentityBootstrap(pairs, args.boot)
    describe(pairs, embedded, boot)

    if args.version in shipped.FACE_MODELS:
        curve = shipped.FACE_MODELS[args.version].curve
        current = (curve.at_80, curve.at_99)
        for level in LEVELS:  # the bench's curve is the shipped one
            assert abs(curve_cosine(level, *current) - shipped.cosine_for_similarity(level, args.version)) < 1e-9
        rate_table(pairs, boot, *current, "CURRENT constants (in the code now)")

    fitted = fit_anchors(pairs, args.fmr)
    rate_table(pairs, boot, *fitted, f"FITTED (80 at FMR <= {args.fmr:g} on this set, 99 at the genuine median)")
    draws = []
    for w in boot.weights[:200]:  # how much the anchors themselves move with the people drawn
        chosen = np.repeat(np.arange(len(w)), w)
        resampled_mask = np.isin(pairs.person_a, chosen) & np.isin(pairs.person_b, chosen)
        draws.append(fit_anchors(pairs, args.fmr, mask=resampled_mask))
    draws = np.asarray(draws)
    spread_80, spread_99 = (np.percentile(draws[:, k], [2.5, 50, 97.5]).round(2) for k in (0, 1))
    print(f"anchors over 200 draws of people (each drawn person once): 80 at {spread_80}, 99 at {spread_99}")
    cross_validate(pairs, args.fmr)
    by_source(pairs, embedded, *fitted)

    print(f"\n# constants to paste into recognito/faces/similarity.py ({date.today().isoformat()}, "
          f"{FACE_SET.name}: {len(embedded)} photos, {int(pairs.genuine.sum())} genuine / "
          f"{int((~pairs.genuine).sum())} impostor pairs, bench/calibrate_similarity.py)")  # fmt: skip
    print(f'FACE_MODELS["{args.version}"]: Curve(at_80={fitted[0]:.2f}, at_99={fitted[1]:.2f})')


if __name__ == "__main__":
    main()
