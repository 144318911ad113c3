// ReadBuffer: bytes a socket is read into — an upstream response's head and body. Its bytes are
// left uninitialized when it grows: every byte is written by a read before anything looks at it,
// and zeroing 16 KiB for each request an HTTP/2 connection multiplexes (the worker keeps only 64
// spare buffers) cost 2% of the proxy's CPU time per request.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace meshgate::dp {

// std::allocator whose value-initialization (vector(n), resize(n)) default-initializes instead:
// for char, nothing is written.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  explicit DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  template <class U>
  void construct(U* where) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(where)) U;
  }
  template <class U, class... Args>
  void construct(U* where, Args&&... args) {
    std::allocator_traits<std::allocator<T>>::construct(static_cast<std::allocator<T>&>(*this),
                                                        where, std::forward<Args>(args)...);
  }
};

using ReadBuffer = std::vector<char, DefaultInitAllocator<char>>;

}  // namespace meshgate::dp
