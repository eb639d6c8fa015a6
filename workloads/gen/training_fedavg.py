"""Server model and one device's data for fedavg_reptile.c (wine).

scikit-learn's wine set (178 samples, 13 features, 3 cultivars) is shuffled with a
fixed seed. The first 100 samples stand for the other clients: the server model
(13-16-3, fp32) is trained on them here, with features standardized by their mean
and standard deviation. The remaining 78 belong to one device whose sensors are
calibrated differently: each standardized feature passes through a fixed per-device
gain and offset (seeded). The server model does worse there; the firmware runs
rounds of local SGD followed by the Reptile/FedAvg interpolation
w <- w + eps (w_local - w) and shows the interpolated model improving on that device.
Parameters are flat: per layer W [out][in] row-major, then b [out].
"""

import numpy as np
from sklearn.datasets import load_wine

from training_common import Header, mlp_logits, softmax, train_mlp

SEED = 11
SERVER = 100
HIDDEN = 16
DEVICE_TRAIN = 48


def loss_acc(params, x, y):
    z = mlp_logits(params, x)
    return -np.log(softmax(z)[np.arange(len(y)), y]).mean(), (z.argmax(1) == y).mean()


def main():
    data = load_wine()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(data.target))
    x = data.data[order]
    y = data.target[order]
    mean = x[:SERVER].mean(axis=0)
    std = x[:SERVER].std(axis=0)
    xs = ((x - mean) / std).astype(np.float32)

    server = train_mlp(xs[:SERVER], y[:SERVER], [HIDDEN], 3, rng, epochs=30, lr=0.02)
    offset = rng.normal(0.0, 1.0, x.shape[1]).astype(np.float32)
    gain = rng.uniform(0.6, 1.4, x.shape[1]).astype(np.float32)
    dev_x = xs[SERVER:] * gain + offset
    dev_y = y[SERVER:]
    held = slice(DEVICE_TRAIN, None)
    flat = np.concatenate([np.concatenate([w.reshape(-1), b]) for w, b in server])

    h = Header(
        "wine_fedavg",
        [
            "training_fedavg.py (seed %d)" % SEED,
            "Source data: scikit-learn load_wine (UCI wine recognition, 3 cultivars).",
            "Server model 13-%d-3 trained on %d samples: loss %.3f, accuracy %.3f there;"
            % ((HIDDEN, SERVER) + loss_acc(server, xs[:SERVER], y[:SERVER])),
            "on the device's held-back samples: loss %.3f, accuracy %.3f."
            % loss_acc(server, dev_x[held], dev_y[held]),
        ],
    )
    h.define("WINE_FEATURES", x.shape[1])
    h.define("WINE_HIDDEN", HIDDEN)
    h.define("WINE_CLASSES", 3)
    h.define("WINE_PARAMS", flat.size)
    h.define("WINE_DEVICE_SAMPLES", len(dev_y))
    h.define("WINE_DEVICE_TRAIN", DEVICE_TRAIN)
    h.blank()
    h.array("float", "wine_server_params", flat)
    h.array("float", "wine_device_features", dev_x)
    h.array("uint8_t", "wine_device_labels", dev_y, per_line=32)
    h.write()


if __name__ == "__main__":
    main()
