/* GCC 13 emits a reference to std::ios_base_library_init() from <iostream>; GCC 12's libstdc++ initialises
   iostreams itself, so an empty definition is enough for a library built with GCC 13 to load. */
void _ZSt21ios_base_library_initv(void) {}
