"""The benchmark's labels: N labels of every method and operator over windows of 7 to 365 days,
written twice from one description: as a labelspark config, and as hand-written DuckDB SQL
of the same indicators and labels (the floor labelspark is measured against).

Its parts: `workload_terms` (indicators and rules, each as config and as DuckDB SQL),
`workload_labels` (the label templates and the workload of N labels), `workload_config` (the
labelspark YAML) and `workload_duckdb` (the DuckDB SQL).
"""
from workload_config import config_yaml, write_config
from workload_duckdb import duckdb_sql
from workload_labels import Label, Workload, make_labels, make_labels_over, workload
from workload_terms import KEY, WINDOWS, Indicator, Rule

__all__ = ["KEY", "WINDOWS", "Indicator", "Label", "Rule", "Workload", "config_yaml", "duckdb_sql", "make_labels",
           "make_labels_over", "workload", "write_config"]
