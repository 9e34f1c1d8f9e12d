// SPDX-License-Identifier: GPL-3.0-or-later
#include "commandpalette.h"

#include <QKeyEvent>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QVBoxLayout>

namespace dispatch::views {

namespace {

constexpr int kEntryRole = Qt::UserRole + 1;
constexpr int kSearchRole = Qt::UserRole + 2;    // "Section: text", what the words are looked for in
constexpr int kTextRole = Qt::UserRole + 3;      // the text alone, for ranking
constexpr int kShortcutRole = Qt::UserRole + 4;
constexpr int kScoreRole = Qt::UserRole + 5;     // 0 best; set for every row at each keystroke

// The entry's label, then its shortcut right-aligned in the muted text colour.
class EntryDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyledItemDelegate::paint(painter, option, index);
        const QString shortcut = index.data(kShortcutRole).toString();
        if (shortcut.isEmpty())
            return;
        painter->save();
        const bool selected = option.state & QStyle::State_Selected;
        painter->setPen(option.palette.color(selected ? QPalette::HighlightedText : QPalette::PlaceholderText));
        painter->drawText(option.rect.adjusted(0, 0, -8, 0), Qt::AlignRight | Qt::AlignVCenter, shortcut);
        painter->restore();
    }
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QSize s = QStyledItemDelegate::sizeHint(option, index);
        s.setHeight(s.height() + 6);
        return s;
    }
};

// Every word of the query must appear somewhere in the entry's text (any order, any case).
class WordsFilter : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setWords(QStringList words)
    {
        m_words = std::move(words);
        invalidateFilter();
    }

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override
    {
        const int a = left.data(kScoreRole).toInt();
        const int b = right.data(kScoreRole).toInt();
        if (a != b)
            return a < b;
        return left.data(kEntryRole).toInt() < right.data(kEntryRole).toInt(); // then in the order added
    }
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QString text = sourceModel()->index(row, 0, parent).data(kSearchRole).toString();
        for (const QString &w : m_words)
            if (!text.contains(w, Qt::CaseInsensitive))
                return false;
        return true;
    }

private:
    QStringList m_words;
};

} // namespace

CommandPalette::CommandPalette(QWidget *parent) : QDialog(parent, Qt::Popup | Qt::FramelessWindowHint)
{
    setObjectName(QStringLiteral("commandPalette"));
    setAccessibleName(tr("Command palette"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Type a command, a page, a function or a context\u2026"));
    m_search->setAccessibleName(tr("Command search"));
    m_search->setClearButtonEnabled(true);
    m_model = new QStandardItemModel(this);
    m_proxy = new WordsFilter(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setDynamicSortFilter(false); // sorted once per keystroke, after the scores are set
    m_list = new QListView(this);
    m_list->setModel(m_proxy);
    m_list->setUniformItemSizes(true);
    m_list->setItemDelegate(new EntryDelegate(m_list));
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->setAccessibleName(tr("Matching commands"));
    m_list->setFocusPolicy(Qt::NoFocus); // typing stays in the search box; arrows move the highlight
    layout->addWidget(m_search);
    layout->addWidget(m_list);
    resize(560, 380);

    connect(m_search, &QLineEdit::textChanged, this, &CommandPalette::applyFilter);
    connect(m_list, &QListView::activated, this, [this](const QModelIndex &) { runCurrent(); });
    connect(m_list, &QListView::clicked, this, [this](const QModelIndex &) { runCurrent(); });
    m_search->installEventFilter(this);
}

void CommandPalette::addEntry(const QString &section, const QString &text, const QString &shortcut,
                              std::function<void()> run)
{
    QString label = section.isEmpty() ? text : section + QStringLiteral(": ") + text;
    auto *item = new QStandardItem(label);
    item->setData(int(m_entries.size()), kEntryRole);
    item->setData(label, kSearchRole);
    item->setData(text, kTextRole);
    item->setData(shortcut, kShortcutRole);
    item->setData(0, kScoreRole);
    item->setToolTip(label);
    m_entries.push_back(std::move(run));
    m_model->appendRow(item);
}

void CommandPalette::clearEntries()
{
    m_model->clear();
    m_entries.clear();
}

int CommandPalette::visibleCount() const
{
    return m_proxy->rowCount();
}

void CommandPalette::applyFilter(const QString &text)
{
    const QStringList words = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    // Rank: the entry's own text starts with the first word, then contains it, then only its section does.
    const QString first = words.value(0);
    for (int row = 0; row < m_model->rowCount(); ++row) {
        QStandardItem *item = m_model->item(row);
        const QString own = item->data(kTextRole).toString();
        const int score = first.isEmpty() || own.startsWith(first, Qt::CaseInsensitive) ? 0
                          : own.contains(first, Qt::CaseInsensitive)                     ? 1
                                                                                         : 2;
        if (item->data(kScoreRole).toInt() != score)
            item->setData(score, kScoreRole);
    }
    static_cast<WordsFilter *>(m_proxy)->setWords(words);
    m_proxy->sort(0);
    if (m_proxy->rowCount() > 0)
        m_list->setCurrentIndex(m_proxy->index(0, 0));
}

bool CommandPalette::runCurrent()
{
    QModelIndex current = m_list->currentIndex();
    if (!current.isValid() && m_proxy->rowCount() > 0)
        current = m_proxy->index(0, 0);
    if (!current.isValid())
        return false;
    const int entry = current.data(kEntryRole).toInt();
    if (entry < 0 || entry >= int(m_entries.size()))
        return false;
    auto run = m_entries[std::size_t(entry)];
    accept();
    if (run)
        run();
    return true;
}

bool CommandPalette::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_search && event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        const int rows = m_proxy->rowCount();
        int row = m_list->currentIndex().isValid() ? m_list->currentIndex().row() : -1;
        switch (key->key()) {
        case Qt::Key_Down:
            if (rows > 0)
                m_list->setCurrentIndex(m_proxy->index((row + 1) % rows, 0));
            return true;
        case Qt::Key_Up:
            if (rows > 0)
                m_list->setCurrentIndex(m_proxy->index(row <= 0 ? rows - 1 : row - 1, 0));
            return true;
        case Qt::Key_Return:
        case Qt::Key_Enter:
            runCurrent();
            return true;
        default:
            break;
        }
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace dispatch::views
