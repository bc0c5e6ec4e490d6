"""Neuron modules of snntorch-ms."""

from .projleaky import ProjLeaky

__all__ = ["ProjLeaky"]
