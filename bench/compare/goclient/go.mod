module rebound.local/bench/goclient

go 1.19
