"""Tests of seqlab.data for independent variable-length examples: batch plans, padding, packing, masks."""
