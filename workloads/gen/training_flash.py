"""Iris data for flash_persist.c.

scikit-learn's iris set (150 samples, 4 features, 3 species), shuffled with a fixed
seed; the first 100 train the device's model, the last 50 are held back. Features
are standardized with the training part's mean and standard deviation.
"""

from sklearn.datasets import load_iris

from training_common import Header, shuffled_standardized

SEED = 3
TRAIN = 100


def main():
    data = load_iris()
    x, y, xs = shuffled_standardized(data, SEED, TRAIN)

    h = Header(
        "iris",
        [
            "training_flash.py (seed %d)" % SEED,
            "Source data: scikit-learn load_iris (Fisher's iris, 3 species).",
            "%d samples x 4 standardized features; first %d train, rest held back."
            % (len(y), TRAIN),
        ],
    )
    h.define("IRIS_FEATURES", 4)
    h.define("IRIS_CLASSES", 3)
    h.define("IRIS_SAMPLES", len(y))
    h.define("IRIS_TRAIN", TRAIN)
    h.blank()
    h.array("float", "iris_features", xs)
    h.array("uint8_t", "iris_labels", y, per_line=32)
    h.write()


if __name__ == "__main__":
    main()
