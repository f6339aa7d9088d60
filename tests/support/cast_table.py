"""Values that do and do not convert, cast with labelspark.udfs.try_cast: compared across Spark lines
(imported by an interpreter of each, so nothing here needs pytest)."""
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.udfs import try_cast

ROWS = [("1.5", "2026-03-01"), ("abc", "03/01/2026"), ("9" * 40, None), (None, "2026-02-30")]
CASTS = {"double": T.DoubleType(), "long": T.LongType(), "decimal": T.DecimalType(38, 9), "date": T.DateType()}


def cast_rows(spark) -> list[list[str]]:
    """Each value cast to each type, as Python writes it (engines write doubles differently), None
    where it does not convert."""
    frame = spark.createDataFrame(ROWS, "number string, day string")
    casts = [try_cast(F.col(column), data_type) for column in ("number", "day") for data_type in CASTS.values()]
    return [[None if value is None else str(value) for value in row] for row in frame.select(*casts).collect()]
