#!/bin/sh
# Retrains the prompt guard's scorer from the development split and writes the shipped model
# file (src/main/resources/dev/gatehouse/guard/model.txt). Deterministic: the same data gives the
# same bytes (GuardTrainerTest checks this). With --half SEED it trains on a random half and
# prints the evaluation on the other half instead.
#   scripts/train-guard.sh [DATA.jsonl] [--half SEED]
set -eu
cd "$(dirname "$0")/.."
. scripts/jdk.sh
JAVA_HOME=$(find_jdk); export JAVA_HOME
DATA=${1:-../shared/datasets/prompt-guard/dev.jsonl}
[ $# -gt 0 ] && shift
./mvnw -B -q compile dependency:build-classpath -Dmdep.outputFile=target/guard-cp.txt
CP=target/classes:$(cat target/guard-cp.txt)
if [ "${1:-}" = "--half" ]; then
  exec "$JAVA_HOME/bin/java" -cp "$CP" dev.gatehouse.guard.train.GuardTrainer "$DATA" target/guard-half-model.txt --half "$2"
fi
exec "$JAVA_HOME/bin/java" -cp "$CP" dev.gatehouse.guard.train.GuardTrainer "$DATA" src/main/resources/dev/gatehouse/guard/model.txt
