# The benchmark's request lines, sourced by Benchmarks/run and
# Benchmarks/instructions so that both measure the same requests.
greet_line='{"method":"GET","path":"/hello/bob"}'
echo_body='{"text":"the quick brown fox jumps over the lazy dog","n":[1,2,3,4,5,6,7,8,9],"ok":1,"tag":"bench1"}'
echo_request() { # TOKEN: cecho's POST /echo with that token and the 100-byte body
  printf '{"method":"POST","path":"/echo","auth_token":"%s","data":%s}' "$1" "$echo_body"
}
