// N generation slots and a bounded FIFO queue in front of them.
//
//   auto t = pool.admit();            // throws QueueFull when slots + queue are all taken
//   int slot = t->wait(still_wanted); // blocks until a slot is free (FIFO); -1 when still_wanted() turned false
//   ...generate on `slot`...          // destroying the ticket frees the slot (or the queue place)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace ead::server {

class QueueFull : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SlotPool;

class Ticket {
public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

    // Waits for a slot; polls still_wanted (may be empty) every 50 ms. Returns the slot, or -1 (and leaves the
    // queue) when still_wanted() returned false.
    int wait(const std::function<bool()>& still_wanted);
    int slot() const { return slot_; }

private:
    friend class SlotPool;
    Ticket(SlotPool& pool, uint64_t id) : pool_(&pool), id_(id) {}
    SlotPool* pool_;
    uint64_t id_;
    int slot_ = -1;
    bool left_ = false;
};

class SlotPool {
public:
    SlotPool(int n_slots, int max_queue);

    // Admits a request (a slot or a queue place). Throws QueueFull when n_slots + max_queue are admitted.
    std::unique_ptr<Ticket> admit();

    int n_slots() const { return static_cast<int>(busy_.size()); }
    int max_queue() const { return max_queue_; }
    int queued() const;
    int busy() const;
    int admitted() const;

private:
    friend class Ticket;
    int take(Ticket& t, const std::function<bool()>& still_wanted);
    void release(Ticket& t);

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<bool> busy_;
    std::deque<uint64_t> waiting_;  // ticket ids in arrival order
    int max_queue_;
    int n_busy_ = 0;
    uint64_t next_id_ = 0;
};

}  // namespace ead::server
