# Bulkhead: every entry point a person or CI needs. Each target installs what it uses (idempotent).
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
STAMP := node_modules/.bulkhead-toolchain

.PHONY: demo test toolchain build gas bench demo-anvil demo-forge dapp anvil deploy-local fmt clean install

## demo: the demo world's chained slash on the real bytecode in the embedded revm (no node needed)
demo: toolchain
	cargo run --locked -q -p bulkhead-cli -- demo --embedded

## demo-anvil: the same on a spawned anvil, deployed over JSON-RPC; KEEP=1 leaves the node up
demo-anvil: toolchain
	cargo run --locked -q -p bulkhead-cli -- demo $(if $(KEEP),--keep)

## demo-forge: the narrated forge-script demo (double-sign, committee veto, tier slash) in forge's EVM
demo-forge: toolchain
	forge script script/Demo.s.sol

## dapp: the demo dApp: anvil, the deployment, the demo world and the page on http://127.0.0.1:5173 (Ctrl-C stops all)
# PORT and HTTP_PORT move the node and the page.
dapp: toolchain
	npm run -s dapp:build
	cargo run --locked -q -p bulkhead-cli -- dapp $(if $(PORT),--port $(PORT)) $(if $(HTTP_PORT),--http-port $(HTTP_PORT))

## bench: chained-slash scenarios per second, embedded revm vs anvil JSON-RPC (release build with LTO, for this CPU)
# target-cpu=native (~5% on the embedded path) is safe here: the bench-release build only ever runs where it was built.
bench: toolchain
	RUSTFLAGS="-C target-cpu=native" cargo run --locked --profile bench-release -q -p bulkhead-cli -- bench

## test: formatting, lints, every Solidity and Rust test, and the gas benchmark
test: toolchain
	script/test-all.sh

## install: `bulkhead` into ~/.cargo/bin (the build compiles the contracts with the npm toolchain)
install: toolchain
	cargo install --locked --path crates/bulkhead-cli

## toolchain: forge, anvil, cast, solc-js, forge-std and OpenZeppelin, as locked in package-lock.json
toolchain: $(STAMP)
$(STAMP): package.json package-lock.json
	script/toolchain/bootstrap.sh
	@touch $@

build: toolchain
	forge build

## gas: one line per user operation, `GAS <operation> <tx gas>`
gas: toolchain
	forge test --match-path 'test/gas/*' --isolate -vv | grep -E '^ *GAS '

## anvil: a local node on 127.0.0.1:8545 (foreground)
anvil: toolchain
	anvil

## deploy-local: deploy to the anvil node at $(RPC_URL) and write deployments/<chainId>.json
RPC_URL ?= http://127.0.0.1:8545
# anvil's first well-known dev account; never use it on a real chain
ANVIL_KEY ?= 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
deploy-local: toolchain
	forge script script/Deploy.s.sol --rpc-url $(RPC_URL) --broadcast --private-key $(ANVIL_KEY)

fmt: toolchain
	forge fmt
	cargo fmt --all

clean:
	rm -rf out cache broadcast target
