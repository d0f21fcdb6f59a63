# The device dashboard of examples/chat (examples/chat/dashboard.c, dashboard.html) in
# chat.elf: its page as constant data (it stays in flash: sent by reference), its object
# linked next to the example's. Included by the Makefile.

CHAT_OBJS += $(OUT)/obj/dashboard.o

$(OUT)/gen/dashboard_page.h: $(ROOT)/examples/chat/dashboard.html
	@mkdir -p $(dir $@)
	cd $(dir $<) && xxd -i dashboard.html | sed 's/^unsigned/static const unsigned/' > $@.tmp
	mv $@.tmp $@

$(OUT)/obj/dashboard.o: $(ROOT)/examples/chat/dashboard.c $(ROOT)/examples/chat/dashboard.h \
                        $(OUT)/gen/dashboard_page.h $(ROOT)/include/lwip_ws.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ARCH) -Os -g -ffunction-sections -fdata-sections -std=c99 \
	    -Wall -Wextra -Werror -pedantic -c -o $@ $<

$(OUT)/obj/chat.o: $(ROOT)/examples/chat/dashboard.h
$(OUT)/chat.elf: $(CHAT_OBJS)
