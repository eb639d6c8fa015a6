"""Breast cancer data for mlp_backprop.c (full backpropagation on the device).

scikit-learn's Wisconsin diagnostic breast cancer set: 569 samples, 30 features,
2 classes (0 malignant, 1 benign). Shuffled with a fixed seed; the first 400 are
the device's training set, the rest are held back. Features are standardized with
the training set's mean and standard deviation (the device's fixed preprocessing).
The network's initial weights come from the firmware's own seeded PRNG.
"""

from sklearn.datasets import load_breast_cancer

from training_common import Header, shuffled_standardized

SEED = 5
TRAIN = 400


def main():
    data = load_breast_cancer()
    x, y, xs = shuffled_standardized(data, SEED, TRAIN)

    h = Header(
        "breast_cancer",
        [
            "training_mlp.py (seed %d)" % SEED,
            "Source data: scikit-learn load_breast_cancer (UCI Wisconsin diagnostic).",
            "%d samples x %d standardized features; first %d train, rest held back."
            % (len(y), x.shape[1], TRAIN),
            "Class balance: %d malignant, %d benign." % ((y == 0).sum(), (y == 1).sum()),
        ],
    )
    h.define("BC_FEATURES", x.shape[1])
    h.define("BC_CLASSES", 2)
    h.define("BC_SAMPLES", len(y))
    h.define("BC_TRAIN", TRAIN)
    h.blank()
    h.array("float", "bc_features", xs)
    h.array("uint8_t", "bc_labels", y, per_line=32)
    h.write()


if __name__ == "__main__":
    main()
