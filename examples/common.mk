# Shared by examples/Makefile and tests/c/Makefile: C programs linked against the Rust
# staticlib and the host lwIP build (ports/unix). Set ROOT before including.
#   SANITIZE=1        ASan/UBSan in the C code and in lwIP (build/host-sanitize)
#   CARGO_TARGET_DIR  where `cargo build --release` puts liblwip_ws.a (default: target)

LWIP_DIR ?= $(ROOT)/.deps/lwip-2.1.3
CARGO_TARGET_DIR ?= target
ifneq ($(filter /%,$(CARGO_TARGET_DIR)),)
RUST_LIB := $(CARGO_TARGET_DIR)/release/liblwip_ws.a
else
RUST_LIB := $(ROOT)/$(CARGO_TARGET_DIR)/release/liblwip_ws.a
endif

ifeq ($(SANITIZE),1)
VARIANT  := -sanitize
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer
else
VARIANT  :=
SAN      :=
endif
PORT_LIB := $(ROOT)/build/host$(VARIANT)/liblwip.a

CC       ?= cc
CXX      ?= c++
CFLAGS   ?= -g -O2
CXXFLAGS ?= -g -O2
WARN     := -Wall -Wextra -Werror -pedantic
CPPFLAGS += -I$(ROOT)/include -I$(ROOT)/ports/unix/include -I$(LWIP_DIR)/src/include
LIBS     := $(RUST_LIB) $(PORT_LIB) -lslirp -lpthread -lm -ldl
DEPS     := $(RUST_LIB) $(PORT_LIB) $(ROOT)/include/lwip_ws.h $(ROOT)/include/lwip_ws.hpp

$(RUST_LIB):
	cd $(ROOT) && cargo build --release
