# The edge client (provider/client.c) against a fake lurkd: out-of-order
# answers, reconnection, timeouts, errors, fork.
exec "${LURKD_TOP:-$(dirname "$0")/../..}/regress/provider/client_test"
