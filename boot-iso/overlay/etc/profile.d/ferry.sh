# ferry.sh: the Ferry ISO's shell environment.
echo "Ferry capture ISO: 'ferry agent' starts the capture agent; 'ferry --help'."
