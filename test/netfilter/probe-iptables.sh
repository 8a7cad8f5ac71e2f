#!/usr/bin/env bash
# Regenerates test/fixtures/netfilter/save-vectors.txt from the real iptables-nft (needs root).
#   test/netfilter/probe-iptables.sh test/fixtures/netfilter/save-vectors.input > vectors.txt
# Each input line is "CHAIN rule-spec"; it is loaded alone into a fresh filter table (built-in chains plus
# a user chain 'user') in a private network namespace, and iptables-nft-save's line (or the error) printed.
set -u
ns="rampart-probe-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
echo "# iptables-restore -> iptables-save normalisation vectors."
echo "# Origin: $(iptables-nft -V), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r);"
echo "# produced by test/netfilter/probe-iptables.sh (each 'IN :' rule loaded alone into a fresh filter table)."
echo "# 'OUT:' is what iptables-nft-save printed (two lines when -s/-d expand), 'ERR:' what iptables-nft-restore said."
while IFS= read -r line; do
  [ -z "$line" ] && continue
  chain=${line%% *}
  spec=${line#* }
  rules=$(printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:user - [0:0]\n-A %s %s\nCOMMIT\n' "$chain" "$spec")
  echo "IN : $chain $spec"
  if err=$(printf '%s\n' "$rules" | ip netns exec "$ns" iptables-nft-restore 2>&1); then
    echo "OUT: $(ip netns exec "$ns" iptables-nft-save 2>/dev/null | grep '^-A')"
  else
    echo "ERR: $(echo "$err" | head -1)"
  fi
done < "$1"
