package main

import "runtime"

func runtimeThreads() int { return runtime.GOMAXPROCS(0) }
