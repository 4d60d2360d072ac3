"""The course's classic models.

Import each from its module, e.g. ``from nn.models.perceptron import Perceptron``;
this package does not import them eagerly so that the numpy-only models stay
usable without the heavier ones.
"""
