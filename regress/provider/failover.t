# The edge client's failover between key servers (provider/client.c)
# against fake ones: preference, dead, hung, refusing and dropping
# servers, one resend, the one timeout, the way back to the first.
exec "${LURKD_TOP:-$(dirname "$0")/../..}/regress/provider/failover_test"
