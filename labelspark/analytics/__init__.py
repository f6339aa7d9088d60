"""What business users ask of the labels besides computing them: test a label (`preview`),
why an entity has its value (`explain`), one entity's portrait (`profile`), two groups side
by side (`compare`), governance (`audit`) and drift between dates (`diff`).

`preview` and `explain` compute with the engine from the sources and write nothing; the
other four read the Delta tables with delta-rs, pruned to the dates and rows they need.
"""
