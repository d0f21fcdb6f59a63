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
GEN      := $(ROOT)/build/gen$(VARIANT)

CC       ?= cc
CXX      ?= c++
CFLAGS   ?= -g -O2
CXXFLAGS ?= -g -O2
WARN     := -Wall -Wextra -Werror -pedantic
# $(GEN) first: it holds the compilable copy of lwip_ws.h (see below).
CPPFLAGS += -I$(GEN) -I$(ROOT)/include -I$(ROOT)/ports/unix/include -I$(LWIP_DIR)/src/include
LIBS     := $(RUST_LIB) $(PORT_LIB) -lslirp -lpthread -lm -ldl
DEPS     := $(RUST_LIB) $(PORT_LIB) $(GEN)/lwip_ws.h $(GEN)/lwip_ws.hpp

# include/lwip_ws.h has a "/* ... */" inside a doc comment (the WSSCB example), which
# ends the comment early and breaks every C and C++ includer. Until the generator is
# fixed, compile against a copy where such inner comments become "( ... )"; once the
# header is fixed this copy is byte-identical. lwip_ws.hpp is copied next to it, since
# its #include "lwip_ws.h" looks in its own folder first.
$(GEN)/lwip_ws.h: $(ROOT)/include/lwip_ws.h
	@mkdir -p $(dir $@)
	sed -e '/^ \* .*\/\*.*\*\//{s|/\*|(|;s|\*/|)|}' $< > $@.tmp
	mv $@.tmp $@

$(GEN)/lwip_ws.hpp: $(ROOT)/include/lwip_ws.hpp
	@mkdir -p $(dir $@)
	cp $< $@

$(RUST_LIB):
	cd $(ROOT) && cargo build --release
