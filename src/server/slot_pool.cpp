#include "server/slot_pool.h"

#include <algorithm>
#include <chrono>

namespace ead::server {

Ticket::~Ticket() { pool_->release(*this); }

int Ticket::wait(const std::function<bool()>& still_wanted) { return pool_->take(*this, still_wanted); }

SlotPool::SlotPool(int n_slots, int max_queue) : busy_(static_cast<size_t>(std::max(1, n_slots)), false),
                                                  max_queue_(std::max(0, max_queue)) {}

std::unique_ptr<Ticket> SlotPool::admit() {
    std::lock_guard lock(mu_);
    if (static_cast<int>(waiting_.size()) + n_busy_ >= n_slots() + max_queue_) {
        throw QueueFull("server busy: all " + std::to_string(n_slots()) + " slots and " +
                        std::to_string(max_queue_) + " queue places are taken; retry later");
    }
    const uint64_t id = next_id_++;
    waiting_.push_back(id);
    return std::unique_ptr<Ticket>(new Ticket(*this, id));
}

int SlotPool::take(Ticket& t, const std::function<bool()>& still_wanted) {
    std::unique_lock lock(mu_);
    if (t.slot_ >= 0) return t.slot_;
    if (t.left_) return -1;
    for (;;) {
        if (!waiting_.empty() && waiting_.front() == t.id_ && n_busy_ < n_slots()) {
            waiting_.pop_front();
            auto it = std::find(busy_.begin(), busy_.end(), false);
            t.slot_ = static_cast<int>(it - busy_.begin());
            *it = true;
            ++n_busy_;
            cv_.notify_all();
            return t.slot_;
        }
        cv_.wait_for(lock, std::chrono::milliseconds(50));
        if (still_wanted) {
            lock.unlock();
            const bool wanted = still_wanted();
            lock.lock();
            if (!wanted) {
                waiting_.erase(std::find(waiting_.begin(), waiting_.end(), t.id_));
                t.left_ = true;
                cv_.notify_all();
                return -1;
            }
        }
    }
}

void SlotPool::release(Ticket& t) {
    std::lock_guard lock(mu_);
    if (t.slot_ >= 0) {
        busy_[static_cast<size_t>(t.slot_)] = false;
        --n_busy_;
        t.slot_ = -1;
    } else if (!t.left_) {
        auto it = std::find(waiting_.begin(), waiting_.end(), t.id_);
        if (it != waiting_.end()) waiting_.erase(it);
    }
    t.left_ = true;
    cv_.notify_all();
}

int SlotPool::queued() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(waiting_.size());
}

int SlotPool::busy() const {
    std::lock_guard lock(mu_);
    return n_busy_;
}

int SlotPool::admitted() const {
    std::lock_guard lock(mu_);
    return n_busy_ + static_cast<int>(waiting_.size());
}

}  // namespace ead::server
