// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/changefeed.h"

#include "wire/models.h"

namespace dispatch {

uint64_t ChangeFeed::publish(std::string org, std::string type, std::string kind, std::string name,
                             const nlohmann::json &object)
{
    return publishSerialized(std::move(org), std::move(type), std::move(kind), std::move(name),
                             wire::dumpJson(object));
}

uint64_t ChangeFeed::publishSerialized(std::string org, std::string type, std::string kind, std::string name,
                                       std::string objectJson)
{
    // One immutable Change, shared by the history and every subscriber call (a run document is never copied).
    auto c = std::make_shared<Change>();
    c->type = std::move(type);
    c->kind = std::move(kind);
    c->name = std::move(name);
    c->object = std::move(objectJson);
    c->org = std::move(org);
    std::vector<std::shared_ptr<Sub>> targets;
    std::shared_ptr<const Change> dropped; // freed outside the lock
    std::lock_guard delivery(m_deliver);
    {
        std::lock_guard lock(m_mutex);
        c->seq = ++m_seq;
        m_history.push_back(c);
        if (m_history.size() > m_historyLimit) {
            dropped = std::move(m_history.front());
            m_history.pop_front();
        }
        for (const auto &[id, s] : m_subs)
            if (s->org.empty() || s->org == c->org)
                targets.push_back(s);
    }
    for (const auto &s : targets)
        s->fn(*c);
    return c->seq;
}

uint64_t ChangeFeed::subscribe(const std::string &org, uint64_t afterSeq, Subscriber subscriber, bool *resumed)
{
    std::vector<std::shared_ptr<const Change>> replay;
    uint64_t id;
    {
        std::lock_guard lock(m_mutex);
        const bool ok = afterSeq == 0 || afterSeq >= m_seq ||
                        (!m_history.empty() && m_history.front()->seq <= afterSeq + 1);
        if (resumed)
            *resumed = ok;
        if (afterSeq > 0)
            for (const auto &c : m_history)
                if (c->seq > afterSeq && (org.empty() || c->org == org))
                    replay.push_back(c);
        // Replay under the lock so that no live change can overtake the history.
        for (const auto &c : replay)
            subscriber(*c);
        id = m_nextSub++;
        m_subs[id] = std::make_shared<Sub>(Sub{org, std::move(subscriber)});
    }
    return id;
}

void ChangeFeed::unsubscribe(uint64_t id)
{
    std::lock_guard lock(m_mutex);
    m_subs.erase(id);
}

uint64_t ChangeFeed::lastSeq() const
{
    std::lock_guard lock(m_mutex);
    return m_seq;
}

std::size_t ChangeFeed::subscriberCount() const
{
    std::lock_guard lock(m_mutex);
    return m_subs.size();
}

} // namespace dispatch
