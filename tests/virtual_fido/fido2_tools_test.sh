#!/bin/sh
# An independent opinion on the virtual keys: libfido2's own command line tools (fido2-tools), run by CTest with
# LD_PRELOAD set. Enumerate, describe, enrol with fido2-cred, assert with fido2-assert (each its own process, so the
# stateless credential id is what carries the key across) and verify with their -V modes.
set -eu

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fido2-token -L > "$work/list"
grep -q '^vfido:0: ' "$work/list"
grep -q '^vfido:1: ' "$work/list"

# fido2-token opens by path (fido_dev_new + fido_dev_open): the io path, where libfido2 frames CTAPHID itself.
fido2-token -I vfido:0 > "$work/info"
grep -q 'FIDO_2_0' "$work/info"
grep -q '70702d766669646f2d746573742d3031' "$work/info"  # the AAGUID, "pp-vfido-test-01"

random_b64() { head -c "$1" /dev/urandom | base64 -w 0; }

for type in es256 eddsa; do
    printf '%s\n%s\n%s\n%s\n' "$(random_b64 32)" example.org alice "$(random_b64 16)" > "$work/cred_param"
    fido2-cred -M -i "$work/cred_param" -o "$work/cred" vfido:0 "$type"
    fido2-cred -V -i "$work/cred" -o "$work/verified" "$type"
    head -n 1 "$work/verified" > "$work/cred_id"
    tail -n +2 "$work/verified" > "$work/pubkey.pem"

    printf '%s\n%s\n%s\n' "$(random_b64 32)" example.org "$(cat "$work/cred_id")" > "$work/assert_param"
    fido2-assert -G -i "$work/assert_param" -o "$work/assert" vfido:0
    fido2-assert -V -p -i "$work/assert" "$work/pubkey.pem" "$type"

    if fido2-assert -G -i "$work/assert_param" -o "$work/assert_other" vfido:1 2> "$work/stderr"; then
        echo "key 1 answered for a credential of key 0 ($type)" >&2
        exit 1
    fi
    grep -q 'FIDO_ERR_NO_CREDENTIALS' "$work/stderr"
done
echo "fido2-tools agree with the virtual keys"
