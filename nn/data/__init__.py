"""Data utilities: datasets and loaders, scaling, splitting, and the course's data sets."""

from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader, default_collate, default_convert
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .preprocessing import MeanNormalizer, MinMaxScaler, StandardScaler, UnitNormScaler, one_hot
from .split import KFold, LeaveOneOut, bootstrap, train_test_split, train_val_test_split
from .idx import (DEFAULT_DATA_DIR, FASHION_MNIST_CLASSES, find_data_dir, load_idx,
                  load_image_set, save_idx)
from .generated import (and_gate, gaussian_blobs, noisy_sine, or_gate, spirals, truth_table,
                        two_moons, xor_gate)
from .text import (DEFAULT_FORTUNES, Vocab, build_vocab, char_vocab, decode_chars, encode_chars,
                   read_fortunes, read_text, tokenize_words)
