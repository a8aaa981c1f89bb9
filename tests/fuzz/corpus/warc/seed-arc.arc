filedesc://x.arc 0.0.0.0 20260101000000 text/plain 10
1 0 A

