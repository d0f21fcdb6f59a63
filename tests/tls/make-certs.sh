#!/usr/bin/env bash
# make-certs.sh DIR: test certificates for the TLS tests, made fresh with the openssl CLI
# (EC P-256, SHA-256):
#   ca.pem/ca.key          a test CA
#   server.pem/server.key  localhost (DNS:localhost, IP:127.0.0.1), signed by the CA
#   expired.pem            the same key and names, signed by the CA, valid in 2020 only
#                          (`openssl ca -startdate/-enddate`: `-days` cannot go back)
#   self.pem/self.key      localhost, self-signed (trusted by nobody)
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
san="subjectAltName=DNS:localhost,IP:127.0.0.1"
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 3 -subj "/CN=lwip-ws test CA" 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "$san" >ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 3 \
    -extfile ext.cnf -out server.pem 2>/dev/null
: >index.txt
echo 03 >serial
cat >ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
x509_extensions = ext
[any]
commonName = supplied
[ext]
$san
CNF
openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -in server.csr \
    -startdate 20200101000000Z -enddate 20200201000000Z -out expired.pem 2>/dev/null
openssl req -x509 "${ec[@]}" -keyout self.key -out self.pem -days 3 -subj "/CN=localhost" \
    -addext "$san" 2>/dev/null
