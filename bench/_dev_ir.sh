#!/bin/sh
# usage: _dev_ir.sh backend N [rules]  -> instructions per order for created+paid (valgrind, deterministic)
cd /work/main
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null /work/venv/bin/python bench/_dev_ir.py "$@" 2>&1 | grep "Collected" | awk '{print $4}'; }
a=$(ir $1 0 ${3:-0} $2 n); b=$(ir $1 $2 ${3:-0} $2 n)
echo "$1 rules=${3:-0}: $(( (b - a) / $2 )) instructions per order (created+paid)"
