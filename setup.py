"""labelspark: a user-label engine on Spark (classic, Spark Connect, or embedded Sail)."""
from setuptools import find_packages, setup

setup(
    name="labelspark",
    version="0.1.0",
    description="User-label engine on Spark: rules to labels, Delta snapshots and history, Elasticsearch",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["labelspark", "labelspark.*"]),
    package_data={"labelspark": ["py.typed", "engine/jars.txt", "config/labelspark.schema.json", "site/templates/*.html", "site/static/*.css", "site/static/*.js", "site/static/vendor/*"]},
    install_requires=[
        # The Spark versions the Delta jars of labelspark/engine/jars.txt support, as tested (a Delta jar
        # breaks on other patch releases: tests/test_jars.py keeps this the union of its ranges).
        # A fresh install takes PySpark 4.1, whose Spark Connect client Sail 0.7 speaks (4.2+ is
        # refused); a Spark 3.5 cluster's Python keeps its PySpark 3.5 (classic engine only).
        "pyspark>=3.5.3,<=4.1.4",
        # the Spark Connect client's needs (PySpark 4.1's `connect` extra, named here because
        # 3.5's extra pins numpy<2, which today's pyarrow refuses)
        "grpcio>=1.76",
        "grpcio-status>=1.76",
        "googleapis-common-protos>=1.71",
        "zstandard>=0.25",
        "pysail>=0.7.2,<0.8",
        "pandas>=2.2,<3",
        "pyarrow>=15",
        "pyyaml>=6.0,<7",
        "pydantic>=2.7,<3",
        "deltalake>=1.0,<2",
        "sqlglot>=25,<31",
        "rich>=13,<16",
        "matplotlib>=3.8,<4",
        "jinja2>=3.1,<4",  # the label portal's pages
        "opensearch-py>=2.4,<4",  # bulk client of the python writer (OpenSearch; Elasticsearch without the extra)
        "requests>=2.31,<3",  # index administration and the callback
        "urllib3>=2,<3",  # Retry with backoff for both
    ],
    extras_require={
        # elasticsearch-py 9 sends compatible-with=9, which Elasticsearch 8 refuses: match the server's major
        "elasticsearch": ["elasticsearch>=8,<9"],
        # jdbc sources on Sail: pysail's connectorx reader (~200 MB; classic Spark needs only the driver jar)
        "jdbc": ["pysail[jdbc]>=0.7.2,<0.8"],
        "dev": [
            "pysail[jdbc]>=0.7.2,<0.8",  # tests/test_db_sources.py reads PostgreSQL on Sail too
            "pytest>=8,<10",
            "chispa>=0.10,<0.13",
            "duckdb>=1.1,<3",
            "osmem-server>=0.1.6,<0.2",
            "hypothesis>=6.100,<7",
            "psutil>=5.9,<8",  # the benchmark samples peak memory of each process tree
            "playwright>=1.40,<2",  # browser tests of the label portal, on Debian's chromium
            "jsonschema>=4.18,<5",  # the demo and example configs checked against the shipped schema
            "chdb>=4.4,<5",  # the ClickHouse DDL and selections on a current ClickHouse, in-process
        ],
    },
    entry_points={"console_scripts": ["labelspark=labelspark.cli:main"]},
)
