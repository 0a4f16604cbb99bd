#!/bin/sh
# usage: _dev_ir.sh backend N [rules]  -> instructions per order (valgrind callgrind, deterministic)
cd /work/main
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null /work/venv/bin/python bench/_dev_ir.py "$@" --nogc 2>&1 | grep "Collected" | awk '{print $4}'; }
a=$(ir $1 0 ${3:-0}); b=$(ir $1 $2 ${3:-0})
echo "$1 rules=${3:-0}: $(( (b - a) / $2 )) instructions per order"
