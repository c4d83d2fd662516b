"""Parses a Prometheus text-format scrape with the official Python client's parser
(prometheus_client.parser, Debian package python3-prometheus-client) and prints the metric
families as JSON. Used by AdminMetricsTest: /usr/bin/python3 tests/prometheus/parse.py FILE
A malformed exposition makes the parser raise, and this script exit non-zero."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
families = []
for family in text_string_to_metric_families(text):
    families.append({
        "name": family.name,
        "type": family.type,
        "help": family.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
    })
json.dump(families, sys.stdout)
