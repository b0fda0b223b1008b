#!/bin/sh
# Checks the Prometheus configuration and alerting rules with promtool
# (Debian/Ubuntu: apt-get install prometheus; or the prom/prometheus image).
set -eu
cd "$(dirname "$0")"
promtool check config prometheus.yml
promtool check config all-in-one.yml
promtool check rules rules/*.yml
promtool test rules tests/*.yml
