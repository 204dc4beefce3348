#!/bin/bash
# `ferry export --sign KEY --cert CERT`: NAME.cert comes last, holds the
# manifest's signature and the certificate, and openssl verifies it with
# the certificate's public key (RSA/SHA-256 and EC/SHA-1); the reader
# verifies it too (ferry info, ferry import) and refuses a bad signature,
# a truncated .cert and a .cert without manifest (hostile corpus).  A key
# that does not match the certificate, an encrypted key, a missing file
# and signing an XVA are refused with one line and leave no output.
source "$(dirname "$0")/../functions.sh"
requires openssl tar python3
t=$(mktmpdir)
make_test_disk "$t/disk.img" 8

openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=Ferry Signer/O=Ferry" \
    -days 2 -keyout "$t/rsa.key" -out "$t/rsa.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=Ferry EC" -days 2 -keyout "$t/ec.key" -out "$t/ec.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=Someone Else" \
    -days 2 -keyout "$t/other.key" -out "$t/other.crt" 2>/dev/null

# verify OVA STEM DGST CERT: layout, then openssl checks the signature.
verify () {
    local ova=$1 stem=$2 dgst=$3 crt=$4 names line
    rm -rf "$t/x"; mkdir "$t/x"
    tar xf "$ova" -C "$t/x"
    names=$(tar tf "$ova")
    [ "$(echo "$names" | tail -1)" = "$stem.cert" ] || fail "$ova: .cert not last: $names"
    [ "$(echo "$names" | tail -2 | head -1)" = "$stem.mf" ] || fail "$ova: .mf not before .cert"
    line=$(head -1 "$t/x/$stem.cert")
    case $line in
        "${dgst^^}($stem.mf)= "*) ;;
        *) fail "$ova: signature line: $line" ;;
    esac
    python3 -c 'import binascii, sys
sys.stdout.buffer.write(binascii.unhexlify(sys.argv[1]))' "${line#*= }" > "$t/sig.bin"
    # The certificate in the .cert is the one given.
    sed -n '/BEGIN CERTIFICATE/,$p' "$t/x/$stem.cert" | cmp - "$crt" ||
        fail "$ova: the .cert does not hold '$crt'"
    openssl x509 -in "$crt" -pubkey -noout > "$t/pub.pem"
    openssl dgst "-$dgst" -verify "$t/pub.pem" -signature "$t/sig.bin" \
        "$t/x/$stem.mf" | grep -qx "Verified OK" || fail "$ova: openssl does not verify"
    # And not for a manifest one byte different.
    sed 's/^SHA/sha/' "$t/x/$stem.mf" > "$t/other.mf"
    ! openssl dgst "-$dgst" -verify "$t/pub.pem" -signature "$t/sig.bin" \
        "$t/other.mf" >/dev/null 2>&1 || fail "$ova: a changed manifest verifies"
}

"$FERRY" export -q "$t/disk.img" -o "$t/rsa.ova" --sign "$t/rsa.key" --cert "$t/rsa.crt"
verify "$t/rsa.ova" rsa sha256 "$t/rsa.crt"
"$FERRY" export -q "$t/disk.img" -o "$t/ec.ova" --flavour virtualbox \
    --manifest sha1 --sign "$t/ec.key" --cert "$t/ec.crt"
verify "$t/ec.ova" ec sha1 "$t/ec.crt"

# Ferry's reader verifies it: info (trusted only with --ca), import.
"$FERRY" info --json "$t/rsa.ova" > "$t/info.json"
python3 - "$t/info.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["signature"]
assert s == {"present": True, "verified": True, "chain_checked": False,
             "subject": "O=Ferry,CN=Ferry Signer"}, s
EOF
"$FERRY" info "$t/rsa.ova" | grep -q "not checked against a CA" || fail "info: no trust note"
"$FERRY" info --json --ca "$t/rsa.crt" "$t/ec.ova" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["signature"]
assert s["verified"] and not s["chain_checked"] and "does not chain" in d["problem"], d'
"$FERRY" info --json --ca "$t/ec.crt" "$t/ec.ova" |
    python3 -c 'import json,sys; s=json.load(sys.stdin)["signature"]; assert s["chain_checked"] and s["verified"], s'
"$FERRY" import -q "$t/rsa.ova" --to raw -o "$t/imported"
qemu_compare "$t/disk.img" "$t/imported/rsa-disk1.img"

# The hostile signature cases: refused by import, reported by info.
"$FERRY" export -q "$t/disk.img" -o "$t/good.ova"
"$TESTS_DIR/data/gen-hostile-ova.sh" "$t/bad" "$t/good.ova" "$t/rsa.ova"
expect_bad () {
    local name=$1 re=$2
    expect_fail "^ferry: ova: '.*$name.ova': $re" \
        "$FERRY" import -q "$t/bad/$name.ova" --to raw -o "$t/o-$name"
    [ ! -e "$t/o-$name" ] || fail "$name: output directory left behind"
    "$FERRY" info --json "$t/bad/$name.ova" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["signature"]["present"] and not d["signature"]["verified"], d
assert d["problem"], d' || fail "info $name"
}
expect_bad bad-signature "signature mismatch"
expect_bad truncated-cert "malformed .cert: no valid PEM certificate"
expect_bad cert-without-manifest "a .cert without a manifest"

# Refusals: one line, no output.
openssl pkey -in "$t/rsa.key" -aes256 -passout pass:x -out "$t/enc.key"
refuse () {
    local re=$1; shift
    expect_fail "$re" "$FERRY" export -q "$t/disk.img" "$@"
    [ ! -e "$t/out.ova" ] && [ ! -e "$t/out.xva" ] || fail "output left: $*"
    [ -z "$(ls -A "$t" | grep '^\.')" ] || fail "temporary left: $*"
}
refuse "^ferry: sign: '.*other.key': the key does not belong to the certificate" \
    -o "$t/out.ova" --sign "$t/other.key" --cert "$t/rsa.crt"
refuse "^ferry: sign: '.*enc.key': the private key is encrypted" \
    -o "$t/out.ova" --sign "$t/enc.key" --cert "$t/rsa.crt"
refuse "^ferry: sign: '.*absent.key': No such file" \
    -o "$t/out.ova" --sign "$t/absent.key" --cert "$t/rsa.crt"
refuse "^ferry: sign: '.*absent.crt': No such file" \
    -o "$t/out.ova" --sign "$t/rsa.key" --cert "$t/absent.crt"
refuse "^ferry: sign: '.*rsa.crt': not a PEM private key" \
    -o "$t/out.ova" --sign "$t/rsa.crt" --cert "$t/rsa.crt"
refuse "only an OVA can be signed" \
    -o "$t/out.xva" --sign "$t/rsa.key" --cert "$t/rsa.crt"
refuse "go together" -o "$t/out.ova" --sign "$t/rsa.key"
echo PASS
