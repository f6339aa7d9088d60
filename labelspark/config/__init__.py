"""The config: pydantic models over YAML, cross-checked, every problem located."""
from labelspark.config.project import Project, load_project

__all__ = ["Project", "load_project"]
