#!/usr/bin/env bash
# libimsg unit tests; regress/run exports LURKD_TOP.
top=${LURKD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$top/regress/libimsg/imsg_test"
