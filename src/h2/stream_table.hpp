// The open streams of one HTTP/2 connection, by stream id.
//
// Why not an unordered_map: nghttp2 keeps a table of its own streams and a
// pointer of ours in each (stream user data, given to
// nghttp2_submit_request). Finding a stream there is one probe of a table
// nghttp2 keeps anyway, where a map of our own hashed (a division) and
// chased a node on each of the callbacks a response makes, and allocated a
// node per stream. Entries are recycled: a closed stream's entry serves the
// next one, so a warm connection allocates nothing per stream here.
//
// A stream nghttp2 does not know (yet, or any more) - its HEADERS still
// queued, or closed without being opened - is found by a walk of the
// entries, so a lookup answers exactly what a map would have.
#pragma once

#include "h2/h2_stream.hpp"

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace rebound::h2 {

class StreamTable {
 public:
  using Entry = std::pair<std::int32_t, StreamState>;

  StreamTable() = default;
  StreamTable(const StreamTable&) = delete;
  StreamTable& operator=(const StreamTable&) = delete;
  /// The session whose stream user data the table reads.
  void attach(nghttp2_session* session) noexcept { session_ = session; }

  /// A slot for a request about to be submitted: pass user_data() to
  /// nghttp2_submit_request as the stream's user data, then open() the slot
  /// with the id it got, or discard() it when the submit failed.
  struct Slot;
  Slot* prepare();
  static void* user_data(Slot* s) noexcept { return s; }
  /// Stream `sid` is open; its state is default-constructed.
  StreamState& open(Slot* s, std::int32_t sid) noexcept;
  void discard(Slot* s);

  /// The stream's state, or null when it is not open here.
  StreamState* find(std::int32_t sid) noexcept;
  /// Forgets stream `sid`, then runs `last(state)` on its state where it
  /// lies (no move out) and makes the slot reusable; false when the stream
  /// is not open here. `last` may open and close other streams.
  template <class F>
  bool close(std::int32_t sid, F&& last) {
    Slot* s = find_slot(sid);
    if (!s) return false;
    unlink(s);
    last(s->entry.second);
    recycle(s);
    return true;
  }
  /// Forgets every stream.
  void clear();

  std::size_t size() const noexcept { return live_.size(); }
  bool empty() const noexcept { return live_.empty(); }

  struct Slot {
    Entry entry{0, StreamState{}};
    std::size_t index = 0;  // in live_ while open (so closing is O(1))
    bool open = false;
  };

  /// Iterates the open streams as (id, state) pairs, in no particular order.
  class iterator {
   public:
    explicit iterator(Slot* const* at) : at_(at) {}
    Entry& operator*() const noexcept { return (*at_)->entry; }
    iterator& operator++() noexcept {
      ++at_;
      return *this;
    }
    bool operator!=(const iterator& o) const noexcept { return at_ != o.at_; }

   private:
    Slot* const* at_;
  };
  iterator begin() noexcept { return iterator(live_.data()); }
  iterator end() noexcept { return iterator(live_.data() + live_.size()); }

 private:
  Slot* find_slot(std::int32_t sid) noexcept;
  /// The stream found last: a response's fields, frames and data come one
  /// stream at a time, so most lookups ask for it again.
  Slot* last_found_ = nullptr;
  void unlink(Slot* s) noexcept;
  /// Destroys what the state holds (its exchange above all) and keeps the slot.
  void recycle(Slot* s);

  nghttp2_session* session_ = nullptr;
  std::vector<Slot*> live_;                   // open streams
  std::vector<Slot*> spare_;                  // closed, kept for the next stream
  std::vector<std::unique_ptr<Slot>> owned_;  // every slot ever made (at most the peak of open streams)
};

}  // namespace rebound::h2
