# Included by the layer Makefiles (shared/, layers/inference/, layers/search/): install wheels for
# the python3.12 Lambda runtime (x86_64, Amazon Linux 2023, hence manylinux_2_28) into
# $(ARTIFACTS_DIR)/python, with no Docker and no local python3.12.
#
# --no-compile and the prune keep out what Lambda never uses: bytecode compiled here would be for
# the builder's Python (3.11), which 3.12 ignores; test suites are never imported; and debug
# sections (numkong's extension alone carries ~40 MB of them) change no code. Together
# they were ~95 MB of the 250 MB a function may take with its layers. Only files that have debug
# sections are stripped: rewriting the others, some patched by auditwheel, gains nothing.
PYTHON ?= python3
PIP_TARGET := $(PYTHON) -m pip install --quiet --no-compile --no-warn-conflicts --platform manylinux_2_28_x86_64 \
	--platform manylinux2014_x86_64 --python-version 3.12 --implementation cp --only-binary=:all: \
	--target "$(ARTIFACTS_DIR)/python"
PRUNE := find "$(ARTIFACTS_DIR)/python" -type d \( -name __pycache__ -o -name tests \) -prune -exec rm -rf {} + && \
	find "$(ARTIFACTS_DIR)/python" -type f -name '*.so*' \
		-exec sh -c 'readelf -S "$$1" 2>/dev/null | grep -q "\.debug_info" && strip --strip-debug "$$1"' sh {} \;
