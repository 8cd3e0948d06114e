# Shared functions of the node scripts, inlined by synth where a script includes common.sh.
#
# Every script runs on the host (entered with nsenter from a privileged pod), prints one line per
# action (REMOVED, ABSENT, KEPT, WOULD-REMOVE, WARN, FAILED) and exits 1 when an action failed. A
# tool the host lacks is looked for in k3s's own bundle; when it is missing there too, a backend
# the kernel shows in use is a failure, never reported as clean. DRY_RUN=true only prints.
# HOST_ROOT prefixes every host path (tests set it).

HOST_ROOT="${HOST_ROOT:-}"
DRY_RUN="${DRY_RUN:-false}"
FAILURES=0
# How long iptables-legacy-restore waits for the xtables lock another writer (kube-router, the
# kubelet) holds.
XTABLES_WAIT_SECONDS="${XTABLES_WAIT_SECONDS:-60}"
# k3s ships ipset in bin/ and iptables, ip6tables and nft in bin/aux of its data directory; the
# host's own tools come first, as on k3s's own PATH.
K3S_DATA_DIR="${K3S_DATA_DIR:-/var/lib/rancher/k3s}"
K3S_BIN="${K3S_DATA_DIR}/data/current/bin"
PATH="${PATH:-/usr/sbin:/usr/bin:/sbin:/bin}:${K3S_BIN}:${K3S_BIN}/aux"
export PATH

say() { printf '%s\n' "$*"; }
fail() {
  say "FAILED $*"
  FAILURES=$((FAILURES + 1))
}
dry_run() { [ "$DRY_RUN" = "true" ]; }

# remove_path PATH [what]: removes a file or directory tree, reporting REMOVED or ABSENT.
remove_path() {
  local path="$1" full="${HOST_ROOT}$1"
  if [ ! -e "$full" ] && [ ! -L "$full" ]; then
    say "ABSENT $path"
  elif dry_run; then
    say "WOULD-REMOVE $path"
  elif rm -rf -- "$full"; then
    say "REMOVED $path"
  else
    fail "$path: could not remove"
  fi
}

# is_mounted PATH: true when PATH is a mount point on the host.
is_mounted() {
  awk -v p="$1" '$2 == p { found = 1 } END { exit found ? 0 : 1 }' "${HOST_ROOT}/proc/self/mounts" 2>/dev/null
}

# chain_removal_batch CHAINS [RULES]: reads `iptables-save` output, writes an `iptables-restore
# --noflush` batch that removes the chains whose whole name matches the regex CHAINS: first the
# rules of the built-in chains that jump into them or whose line matches the regex RULES (an owner's
# rules without a jump, such as Felix's appended FORWARD pair), then a flush and a delete of each
# chain. A matching chain that a chain outside the selection still jumps to is kept (with
# everything it jumps to, and the built-in rules that jump into it), so no rule of another owner
# (such as the kubelet's KUBE-FIREWALL) is ever changed; it is reported as `#KEPT <table> <chain>
# <referrer>`.
chain_removal_batch() {
  awk -v pattern="^($1)\$" -v rules="${2:-}" '
    function builtin(c) { return c == "INPUT" || c == "OUTPUT" || c == "FORWARD" || c == "PREROUTING" || c == "POSTROUTING" }
    /^\*/ { table = substr($0, 2); order[++ntables] = table; next }
    /^:/ {
      name = substr($1, 2)
      if (name ~ pattern && !builtin(name)) { selected[table, name] = 1; chains[table] = chains[table] " " name }
      next
    }
    /^-A / {
      from = $2; target = ""
      for (i = 3; i < NF; i++) if ($i == "-j" || $i == "-g") target = $(i + 1)
      n = ++nrules; ruleTable[n] = table; ruleFrom[n] = from; ruleTo[n] = target; ruleText[n] = substr($0, 4)
      ruleOwned[n] = rules != "" && $0 ~ rules
    }
    END {
      # Keep what a chain outside the selection (and not built in) jumps to, transitively.
      do {
        changed = 0
        for (n = 1; n <= nrules; n++) {
          t = ruleTable[n]; f = ruleFrom[n]; g = ruleTo[n]
          if (g == "" || !((t, g) in selected) || ((t, g) in kept)) continue
          if ((((t, f) in selected) && !((t, f) in kept)) || builtin(f)) continue
          kept[t, g] = 1; keptBy[t, g] = f; changed = 1
        }
      } while (changed)
      for (k = 1; k <= ntables; k++) {
        t = order[k]
        nc = split(chains[t], list, " ")
        for (c = 1; c <= nc; c++) if ((t, list[c]) in kept) print "#KEPT " t " " list[c] " " keptBy[t, list[c]]
        ndelete = 0
        for (n = 1; n <= nrules; n++) {
          if (ruleTable[n] != t || !builtin(ruleFrom[n])) continue
          g = ruleTo[n]
          if ((((t, g) in selected) && !((t, g) in kept)) || (ruleOwned[n] && !((t, g) in kept))) deleted[++ndelete] = ruleText[n]
        }
        nremove = 0
        for (c = 1; c <= nc; c++) if (!((t, list[c]) in kept)) removed[++nremove] = list[c]
        if (ndelete == 0 && nremove == 0) continue
        print "*" t
        for (i = 1; i <= ndelete; i++) print "-D " deleted[i]
        for (i = 1; i <= nremove; i++) print "-F " removed[i]
        for (i = 1; i <= nremove; i++) print "-X " removed[i]
        print "COMMIT"
      }
    }'
}

# iptables_tool FAMILY BACKEND SUFFIX: the command for e.g. `iptables nft save`, or nothing.
# Prefers `iptables-nft-save`; falls back to `iptables-save` when that one is the same backend.
iptables_tool() {
  local family="$1" backend="$2" suffix="$3" plain version
  if command -v "${family}-${backend}-${suffix}" >/dev/null 2>&1; then
    printf '%s' "${family}-${backend}-${suffix}"
    return 0
  fi
  plain="${family}-${suffix}"
  command -v "$plain" >/dev/null 2>&1 || return 1
  version="$("$family" --version 2>/dev/null || true)"
  case "$backend:$version" in
    nft:*nf_tables*) printf '%s' "$plain" ;;
    legacy:*legacy*) printf '%s' "$plain" ;;
    *) return 1 ;;
  esac
}

# backend_unused FAMILY BACKEND: true when the kernel shows that backend holds no table at all, so
# a host without its tools has nothing of it to clean. Legacy tables are listed per network
# namespace in /proc/net/ip_tables_names (ip6_tables_names); iptables-nft's are nftables tables
# named like the xtables ones, which only nft can list.
backend_unused() {
  local family="$1" backend="$2" names nftfamily
  if [ "$backend" = legacy ]; then
    names="${HOST_ROOT}/proc/net/ip_tables_names"
    [ "$family" = ip6tables ] && names="${HOST_ROOT}/proc/net/ip6_tables_names"
    # procfs reports size 0: read the content.
    [ -z "$(cat "$names" 2>/dev/null || true)" ]
    return
  fi
  nftfamily=ip
  [ "$family" = ip6tables ] && nftfamily=ip6
  command -v nft >/dev/null 2>&1 || return 1
  ! nft list tables "$nftfamily" 2>/dev/null | grep -Eq "^table ${nftfamily} (filter|nat|mangle|raw|security)\$"
}

# remove_chains LABEL CHAINS [RULES]: removes the matching chains (and built-in chain rules
# matching RULES) in iptables and ip6tables, legacy and nft.
remove_chains() {
  local label="$1" regex="$2" rules_regex="${3:-}" family backend save restore dump batch rules chains out
  for family in iptables ip6tables; do
    for backend in legacy nft; do
      if ! save="$(iptables_tool "$family" "$backend" save)" || ! restore="$(iptables_tool "$family" "$backend" restore)"; then
        if backend_unused "$family" "$backend"; then
          say "ABSENT ${family}-${backend}: the kernel holds no ${family}-${backend} table (its tools are not installed)"
        else
          fail "${family}-${backend}: ${family}-${backend}-save and -restore are not installed (not on the PATH, not in ${K3S_BIN}/aux), so the $label rules there cannot be removed: install iptables on the host, or reboot the node instead"
        fi
        continue
      fi
      if ! dump="$("$save" 2>&1)"; then
        fail "${family}-${backend}: ${save} failed: $(printf '%s' "$dump" | head -n 1)"
        continue
      fi
      batch="$(printf '%s\n' "$dump" | chain_removal_batch "$regex" "$rules_regex")"
      printf '%s\n' "$batch" | awk '/^#KEPT / { print "KEPT " $3 " (" $2 " table): still referenced by " $4 }' | sed "s/^KEPT /KEPT ${family}-${backend} /"
      batch="$(printf '%s\n' "$batch" | grep -v '^#KEPT ' || true)"
      chains="$(printf '%s\n' "$batch" | grep -c '^-X ' || true)"
      rules="$(printf '%s\n' "$batch" | grep -c '^-D ' || true)"
      if [ "$chains" -eq 0 ] && [ "$rules" -eq 0 ]; then
        say "ABSENT ${family}-${backend}: no $label chains or rules"
      elif dry_run; then
        say "WOULD-REMOVE ${family}-${backend}: $chains $label chains and $rules rules in built-in chains:"
        printf '%s\n' "$batch" | sed 's/^/  /'
      elif out="$(printf '%s\n' "$batch" | "$restore" --wait="$XTABLES_WAIT_SECONDS" --noflush 2>&1)"; then
        say "REMOVED ${family}-${backend}: $chains $label chains and $rules rules in built-in chains"
      elif printf '%s' "$out" | grep -q 'xtables.lock\|xtables lock'; then
        fail "${family}-${backend}: another program held the xtables lock (/run/xtables.lock) for more than ${XTABLES_WAIT_SECONDS}s, so the $label chains stay; run the Job again once it is released"
      else
        fail "${family}-${backend}: ${restore} refused the removal of the $label chains: $(printf '%s' "$out" | head -n 1)"
      fi
    done
  done
}

# select_ipsets REGEX: reads `ipset list -n` output, prints the names matching REGEX.
select_ipsets() { grep -E "$1" || true; }

# remove_ipsets LABEL REGEX: destroys the matching ipsets (after the rules that used them are gone).
remove_ipsets() {
  local label="$1" regex="$2" names name out
  if ! command -v ipset >/dev/null 2>&1; then
    fail "ipset: not installed (not on the PATH, not in ${K3S_BIN}), so the $label sets cannot be listed or destroyed: install ipset on the host, or reboot the node instead"
    return 0
  fi
  if ! names="$(ipset list -n 2>&1)"; then
    fail "ipset: ipset list failed: $(printf '%s' "$names" | head -n 1)"
    return 0
  fi
  names="$(printf '%s\n' "$names" | select_ipsets "$regex")"
  if [ -z "$names" ]; then
    say "ABSENT ipsets: no $label sets"
    return 0
  fi
  for name in $names; do
    if dry_run; then
      say "WOULD-REMOVE ipset $name"
    elif out="$(ipset destroy "$name" 2>&1)"; then
      say "REMOVED ipset $name"
    else
      # The kernel refuses while a rule still uses the set: one of a chain kept above.
      say "WARN ipset $name: not destroyed ($(printf '%s' "$out" | head -n 1)); a rule that is kept still uses it; it goes away with that rule or at the next reboot"
    fi
  done
}

# remove_nft_tables LABEL WHY_NONE TABLE...: deletes the named nftables tables ("ip calico").
# Without nft, WHY_NONE (when not empty) says why the tables cannot exist; otherwise that fails.
remove_nft_tables() {
  local label="$1" why_none="$2" listing table found=0
  shift 2
  if ! command -v nft >/dev/null 2>&1; then
    if [ -n "$why_none" ]; then
      say "ABSENT nftables: no $label tables ($why_none)"
    else
      fail "nftables: nft is not installed (not on the PATH, not in ${K3S_BIN}/aux), so the $label tables ($*) cannot be checked: install nftables on the host, or reboot the node instead"
    fi
    return 0
  fi
  if ! listing="$(nft list tables 2>&1)"; then
    fail "nftables: nft list tables failed: $(printf '%s' "$listing" | head -n 1)"
    return 0
  fi
  for table in "$@"; do
    printf '%s\n' "$listing" | grep -Fqx "table $table" || continue
    found=1
    if dry_run; then
      say "WOULD-REMOVE nftables table $table"
    elif nft delete table "$table"; then
      say "REMOVED nftables table $table"
    else
      fail "nftables table $table: nft delete table failed"
    fi
  done
  [ "$found" -eq 1 ] || say "ABSENT nftables: no $label tables ($*)"
}

finish() {
  if [ "$FAILURES" -gt 0 ]; then
    say "$1: $FAILURES action(s) failed"
    exit 1
  fi
  say "$1: done$(dry_run && printf ' (dry run: nothing was changed)')"
}
