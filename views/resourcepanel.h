// A panel made of one or more ResourceViews (tabs when there are several, e.g. Events, Images).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panel.h"

#include <QList>

class QLabel;
class QTabWidget;
class QVBoxLayout;

namespace dispatch::views {

class ResourceView;
class Workspace;

class ResourcePanel : public Panel
{
    Q_OBJECT
public:
    ResourcePanel(const QString &title, const QString &subtitle, Workspace *workspace, QWidget *parent = nullptr);

    QString title() const override { return m_title; }
    QLineEdit *filterEdit() const override;
    ResourceView *currentView() const;
    QList<ResourceView *> views() const { return m_views; }
    QTabWidget *tabs() const { return m_tabs; }
    void showView(int index);

protected:
    // Adds a view; with more than one, the panel shows tabs.
    void addView(ResourceView *view, const QString &tabTitle);
    QVBoxLayout *headerLayout() const { return m_header; }
    Workspace *workspace() const { return m_workspace; }

private:
    QString m_title;
    Workspace *m_workspace = nullptr;
    QVBoxLayout *m_layout = nullptr;
    QVBoxLayout *m_header = nullptr;
    QTabWidget *m_tabs = nullptr;
    QList<ResourceView *> m_views;
};

// The heading every panel starts with: a title and one line saying what the page is for.
QWidget *makePanelHeading(const QString &title, const QString &subtitle, QWidget *parent);

} // namespace dispatch::views
